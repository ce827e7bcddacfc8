/*
 * 16550A UART model. What Linux's 8250 driver checks, and so what must
 * hold here: IER keeps only its low 4 bits; IIR bits 7:6 read 11 once
 * FCR enables the FIFOs and reading offset 2 with LCR 0x80/0xBF still
 * gives IIR (no EFR); FCR bit 5 (64-byte mode) is ignored; loopback turns
 * TX into RX and reflects MCR into MSR; the RX FIFO holds 16 bytes; and
 * setting IER.THRI while THR is empty raises the THRE interrupt.
 */
#include <string.h>

#include "uart.h"

#define NO_BYTE (-1)

static const uint8_t rx_trigger_levels[4] = { 1, 4, 8, 14 };

static unsigned int rx_capacity(const struct uart *u)
{
	return u->fifo_enabled ? UART_FIFO_SIZE : 1;
}

static void rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

static bool rx_put(struct uart *u, uint8_t b)
{
	if (u->rx_count >= rx_capacity(u))
		return false;
	u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
	u->rx_count++;
	return true;
}

/* An empty RBR keeps returning the last byte, as the hardware does. */
static uint8_t rx_get(struct uart *u)
{
	if (u->rx_count) {
		u->rbr = u->rx_fifo[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
		u->rx_count--;
	}
	return u->rbr;
}

/*
 * The modem input lines. In loopback they are wired to the MCR outputs;
 * otherwise the console is a terminal that is always there and ready.
 */
static uint8_t modem_inputs(const struct uart *u)
{
	uint8_t m = u->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	return (m & UART_MCR_DTR ? UART_MSR_DSR : 0) |
	       (m & UART_MCR_RTS ? UART_MSR_CTS : 0) |
	       (m & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
	       (m & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

/* Highest-priority enabled interrupt, as an IIR code without FIFO bits. */
static uint8_t pending_interrupt(const struct uart *u)
{
	if ((u->ier & UART_IER_RLSI) && u->lsr_errors)
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count) {
		/* No clock: data below the trigger level times out at once. */
		if (u->fifo_enabled && u->rx_count < u->rx_trigger)
			return UART_IIR_RX_TIMEOUT;
		return UART_IIR_RDI;
	}
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && u->msr_delta)
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

static void update_irq_line(struct uart *u)
{
	bool line = pending_interrupt(u) != UART_IIR_NO_INT &&
		    (u->mcr & UART_MCR_OUT2) && !(u->mcr & UART_MCR_LOOP);

	atomic_store(&u->irq_line, line);
}

void uart_init(struct uart *u, uart_tx_fn tx, void *ctx)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->tx = tx;
	u->ctx = ctx;
	u->rx_trigger = rx_trigger_levels[0];
	atomic_init(&u->irq_line, false);
}

void uart_destroy(struct uart *u)
{
	pthread_mutex_destroy(&u->lock);
}

/* Reading IIR acknowledges a THRE interrupt if that is what it reports. */
static uint8_t read_iir(struct uart *u)
{
	uint8_t id = pending_interrupt(u);

	if (id == UART_IIR_THRI)
		u->thre_pending = false;
	return id | (u->fifo_enabled ? UART_IIR_FIFO_ENABLED : 0);
}

/* Transmission is instant, so THRE and TEMT are always set. */
static uint8_t read_lsr(struct uart *u)
{
	uint8_t v = (u->rx_count ? UART_LSR_DR : 0) | u->lsr_errors |
		    UART_LSR_THRE | UART_LSR_TEMT;

	u->lsr_errors = 0;
	return v;
}

static uint8_t read_msr(struct uart *u)
{
	uint8_t v = modem_inputs(u) | u->msr_delta;

	u->msr_delta = 0;
	return v;
}

static uint8_t read_locked(struct uart *u, uint16_t offset)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_RBR:
		return dlab ? u->dll : rx_get(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return read_lsr(u);
	case UART_MSR:
		return read_msr(u);
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

uint8_t uart_read(struct uart *u, uint16_t offset)
{
	uint8_t v;

	pthread_mutex_lock(&u->lock);
	v = read_locked(u, offset);
	update_irq_line(u);
	pthread_mutex_unlock(&u->lock);
	return v;
}

/*
 * In loopback the byte lands in our own RX FIFO. A full FIFO overruns:
 * the byte is lost (the FIFO keeps the older ones), or with FIFOs off it
 * replaces the one in RBR. Linux sizes the FIFO by counting survivors.
 */
static void loopback_receive(struct uart *u, uint8_t b)
{
	if (rx_put(u, b))
		return;
	u->lsr_errors |= UART_LSR_OE;
	if (!u->fifo_enabled)
		u->rx_fifo[u->rx_head] = b;
}

/* Returns the byte to hand to tx, or NO_BYTE. */
static int transmit(struct uart *u, uint8_t b)
{
	/* THR empties at once: the THRE interrupt is raised again. */
	u->thre_pending = true;
	if (u->mcr & UART_MCR_LOOP) {
		loopback_receive(u, b);
		return NO_BYTE;
	}
	return b;
}

static void write_ier(struct uart *u, uint8_t v)
{
	v &= UART_IER_MASK;
	if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
		u->thre_pending = true;
	u->ier = v;
}

/* FCR bits other than enable only take effect while enable is set. */
static void write_fcr(struct uart *u, uint8_t v)
{
	bool enable = v & UART_FCR_ENABLE_FIFO;

	if (enable != u->fifo_enabled)
		rx_clear(u);		/* mode switches empty FIFOs */
	u->fifo_enabled = enable;
	if (!enable)
		return;
	if (v & UART_FCR_CLEAR_RCVR)
		rx_clear(u);
	u->rx_trigger = rx_trigger_levels[v >> UART_FCR_TRIGGER_SHIFT];
}

/* Modem-status deltas follow the input lines that MCR changes. */
static void write_mcr(struct uart *u, uint8_t v)
{
	uint8_t before = modem_inputs(u), after, changed;

	u->mcr = v & UART_MCR_MASK;
	after = modem_inputs(u);
	changed = before ^ after;
	u->msr_delta |= (changed >> 4) &
			(UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	if (before & ~after & UART_MSR_RI)
		u->msr_delta |= UART_MSR_TERI;
}

static int write_locked(struct uart *u, uint16_t offset, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_THR:
		if (!dlab)
			return transmit(u, v);
		u->dll = v;
		break;
	case UART_IER:
		if (dlab)
			u->dlm = v;
		else
			write_ier(u, v);
		break;
	case UART_FCR:
		write_fcr(u, v);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		write_mcr(u, v);
		break;
	case UART_SCR:
		u->scr = v;
		break;
	}
	return NO_BYTE;			/* LSR and MSR ignore writes */
}

void uart_write(struct uart *u, uint16_t offset, uint8_t v)
{
	int out;

	pthread_mutex_lock(&u->lock);
	out = write_locked(u, offset, v);
	update_irq_line(u);
	pthread_mutex_unlock(&u->lock);
	if (out != NO_BYTE && u->tx)
		u->tx(u->ctx, (uint8_t)out);
}

size_t uart_rx_push(struct uart *u, const uint8_t *buf, size_t n)
{
	size_t taken = 0;

	pthread_mutex_lock(&u->lock);
	if (!(u->mcr & UART_MCR_LOOP))
		while (taken < n && rx_put(u, buf[taken]))
			taken++;
	update_irq_line(u);
	pthread_mutex_unlock(&u->lock);
	return taken;
}

bool uart_irq_pending(const struct uart *u)
{
	return atomic_load(&u->irq_line);
}
