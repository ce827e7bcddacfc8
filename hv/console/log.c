/* Log lines to the debug console, one CPU at a time. */
#include <hv/log.h>
#include <hv/percpu.h>
#include <hv/printf.h>
#include <hv/spinlock.h>
#include <hv/uart.h>

static u16 console_port = 0x3f8;
static enum log_level console_level = LOG_INFO;
static struct spinlock console_lock = SPINLOCK_INIT;
static volatile s32 console_owner = -1;

void console_init(u16 port, u32 baud)
{
	console_port = port;
	if (port)
		uart_init(port, baud);
}

void log_set_level(enum log_level level)
{
	console_level = level;
}

static void put_line(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			uart_putc(console_port, '\r');
		uart_putc(console_port, *s);
	}
}

/*
 * A CPU that faults while it holds the lock (inside the exception dump)
 * must still be able to print, so the lock remembers its owner.
 */
static bool lock_console(void)
{
	s32 me = (s32)this_cpu_index();

	if (console_owner == me)
		return false;
	spin_lock(&console_lock);
	console_owner = me;
	return true;
}

static void unlock_console(bool locked)
{
	if (!locked)
		return;
	console_owner = -1;
	spin_unlock(&console_lock);
}

void hv_log(enum log_level level, const char *fmt, ...)
{
	static const char *const tag[] = {
		[LOG_ERR] = "error: ",
		[LOG_WARN] = "warning: ",
		[LOG_INFO] = "",
		[LOG_DEBUG] = "",
	};
	char line[256];
	va_list ap;
	int n;
	bool locked;

	if (level > console_level || !console_port)
		return;
	n = hv_snprintf(line, sizeof(line), "hv: %s", tag[level]);
	va_start(ap, fmt);
	hv_vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	locked = lock_console();
	put_line(line);
	put_line("\n");
	unlock_console(locked);
}
