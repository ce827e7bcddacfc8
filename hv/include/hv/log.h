/*
 * The debug console. Every line goes to the UART chosen on the command
 * line, prefixed with "hv: " (and the level for warnings and errors), and
 * is filtered by loglevel. A guest's misbehaviour is logged at info or
 * below: ERR is for the hypervisor's own failures.
 */
#ifndef HV_LOG_H
#define HV_LOG_H

#include <hv/options.h>

void console_init(u16 port, u32 baud);
void log_set_level(enum log_level level);

void hv_log(enum log_level level, const char *fmt, ...) __printf(2, 3);

#define pr_err(...) hv_log(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) hv_log(LOG_WARN, __VA_ARGS__)
#define pr_info(...) hv_log(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) hv_log(LOG_DEBUG, __VA_ARGS__)

#endif
