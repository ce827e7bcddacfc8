/*
 * A 16550A UART (COM1 at 0x3F8 in the child), close enough to the real
 * part that Linux's 8250 driver autodetects it as a 16550A: scratch and
 * IER probes, FIFO bits in IIR, a 16-byte RX FIFO and the MCR loopback
 * mode. Transmission is instant (THRE and TEMT always read 1); bytes go
 * to the tx callback. Baud rate, word length and parity are stored but
 * have no effect. Pure code, host unit-tested.
 *
 * Thread safety: a console thread may call uart_rx_push while VP threads
 * call uart_read/uart_write; a mutex inside serialises them.
 */
#ifndef WORKER_PLATFORM_UART_H
#define WORKER_PLATFORM_UART_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_COM1_BASE 0x3f8
#define UART_NR_PORTS 8
#define UART_FIFO_SIZE 16		/* a 16550A's; Linux measures it */

/* Register offsets from the base port. */
#define UART_RBR 0			/* read, DLAB=0 */
#define UART_THR 0			/* write, DLAB=0 */
#define UART_DLL 0			/* DLAB=1 */
#define UART_IER 1			/* DLAB=0 */
#define UART_DLM 1			/* DLAB=1 */
#define UART_IIR 2			/* read */
#define UART_FCR 2			/* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI 0x01		/* received data available */
#define UART_IER_THRI 0x02		/* transmitter holding reg empty */
#define UART_IER_RLSI 0x04		/* receiver line status */
#define UART_IER_MSI 0x08		/* modem status */
#define UART_IER_MASK 0x0f

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_RX_TIMEOUT 0x0c
#define UART_IIR_FIFO_ENABLED 0xc0

#define UART_FCR_ENABLE_FIFO 0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_FCR_CLEAR_XMIT 0x04
#define UART_FCR_TRIGGER_SHIFT 6

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_MCR_MASK 0x1f

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

typedef void (*uart_tx_fn)(void *ctx, uint8_t byte);

struct uart {
	pthread_mutex_t lock;
	uart_tx_fn tx;
	void *ctx;

	uint8_t rx_fifo[UART_FIFO_SIZE];
	unsigned int rx_head;
	unsigned int rx_count;
	uint8_t rbr;			/* what an empty RBR reads */

	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool fifo_enabled;
	uint8_t rx_trigger;		/* FIFO level for a data interrupt */
	uint8_t lsr_errors;		/* OE; cleared by reading LSR */
	uint8_t msr_delta;		/* MSR 3:0; cleared by reading MSR */
	bool thre_pending;		/* THRE interrupt; IIR/THR clear */
	atomic_bool irq_line;		/* for uart_irq_pending() */
};

/* Power-on state; tx receives every byte the guest transmits (may be NULL). */
void uart_init(struct uart *u, uart_tx_fn tx, void *ctx);
void uart_destroy(struct uart *u);

/*
 * A guest IN/OUT at base + offset (0..7; others read 0xFF and ignore
 * writes). tx is called after the lock is dropped, from the writer's
 * thread, so it may block without stalling uart_rx_push.
 */
uint8_t uart_read(struct uart *u, uint16_t offset);
void uart_write(struct uart *u, uint16_t offset, uint8_t v);

/*
 * Console input: queues up to n bytes while the RX FIFO has room (one byte
 * with FIFOs disabled) and returns how many it took. Unlike a line, it
 * never overruns: the caller keeps the rest and offers it again later.
 * Refused entirely in loopback mode, where the line is disconnected.
 */
size_t uart_rx_push(struct uart *u, const uint8_t *buf, size_t n);

/*
 * The interrupt line: an enabled interrupt is pending and OUT2 is set (PC
 * boards gate the line with OUT2) and the UART is not in loopback mode.
 */
bool uart_irq_pending(const struct uart *u);

#endif
