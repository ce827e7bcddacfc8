/* 16550 UART output. Polled: the hypervisor takes no interrupts of its own. */
#include <hv/uart.h>
#include <x86/cpu.h>

#define UART_THR 0	/* transmit holding */
#define UART_DLL 0	/* divisor latch, low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1	/* divisor latch, high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LCR_DLAB 0x80
#define LCR_8N1 0x03

void uart_init(u16 port, u32 baud)
{
	u16 div = (u16)(115200 / baud);

	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, div & 0xff);
	outb(port + UART_DLM, div >> 8);
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, 0xc7);	/* enable and clear FIFOs */
	outb(port + UART_MCR, 0x03);	/* DTR, RTS */
}

void uart_putc(u16 port, char c)
{
	/* Bounded wait: a missing UART must not hang the hypervisor. */
	for (int i = 0; i < 100000; i++)
		if (inb(port + UART_LSR) & LSR_THRE)
			break;
	outb(port + UART_THR, (u8)c);
}
