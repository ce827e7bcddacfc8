/* Stopping the hypervisor: once, with a status a test can read. */
#include <hv/exit.h>
#include <hv/log.h>
#include <hv/printf.h>
#include <x86/cpu.h>

static u16 exit_port;

void exit_set_port(u16 port)
{
	exit_port = port;
}

void hv_exit(enum hv_exit_code code)
{
	pr_info("stopping (status %u)", code);
	if (exit_port)
		outl(exit_port, code);
	halt_forever();
}

void hv_fatal(enum hv_exit_code code, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	hv_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s", msg);
	hv_exit(code);
}
