/* 16550 UART, output only: the hypervisor's debug console. */
#ifndef HV_UART_H
#define HV_UART_H

#include <hv/types.h>

void uart_init(u16 port, u32 baud);
void uart_putc(u16 port, char c);

#endif
