/*
 * A VP thread: runs its VP and serves what comes back. Port I/O goes
 * to the platform devices (COM1, the CMOS clock, the ACPI sleep and
 * reset registers; other ports read all ones), MSRs the hypervisor does not own are
 * emulated from a short table, PostMessage/SignalEvent go to the VMBus
 * server. What cannot be served ends the VM with a reason, never the
 * worker.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <microhv/tkproto.h>
#include "platform/uart.h"
#include "worker.h"

#define PCI_CONFIG_FIRST 0xcf8
#define PCI_CONFIG_LAST 0xcff
#define GP_FAULT (1ull | (3ull << 1) | (1ull << 4) | (13ull << 16))

struct exit_ctx {
	struct vm *vm;
	uint32_t vp;
	uint32_t names[4];
	struct hv_register_value values[4];
	uint32_t n;		/* registers to write back */
};

static void set_reg(struct exit_ctx *x, uint32_t name, uint64_t value)
{
	x->names[x->n] = name;
	x->values[x->n++] = (struct hv_register_value){ value, 0 };
}

static void complete(struct exit_ctx *x, const struct hv_message *m)
{
	const struct hv_x64_intercept_message_header *h =
		(const void *)m->payload;

	set_reg(x, HV_REG_RIP, h->rip + (h->instruction_length & 0xf));
}

/* ------------------------------------------------------------ ports */

static uint32_t port_read(struct vm *vm, uint16_t port, unsigned size)
{
	uint32_t v = 0xffffffffu;

	if (port >= UART_COM1_BASE && port < UART_COM1_BASE + UART_NR_PORTS) {
		v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= (uint32_t)uart_read(&vm->com1,
						 (uint16_t)(port - UART_COM1_BASE + i))
			     << (8 * i);
	} else if (rtc_owns_port(port)) {
		pthread_mutex_lock(&vm->rtc_lock);
		v = rtc_read(&vm->rtc, port, time(NULL));
		pthread_mutex_unlock(&vm->rtc_lock);
	} else if (pm_io_read(&vm->pm, port, size, &v)) {
		/* a sleep register: reads 0 */
	}
	return v;
}

static void tk_result(struct vm *vm, uint32_t v)
{
	static const char *const names[] = { "SUCCESS", "SKIP", "ERROR",
					     "FAILURE", "CRASH" };
	uint32_t r = (v & 0xff) - TK_EXIT_BASE;

	vm_end(vm, r == 0 ? VM_POWERED_OFF : VM_FAILED, "test kernel result %s",
	       r < 5 ? names[r] : "unknown");
}

static void port_write(struct vm *vm, uint16_t port, unsigned size,
		       uint32_t v)
{
	enum pm_action a;

	if (port >= UART_COM1_BASE && port < UART_COM1_BASE + UART_NR_PORTS) {
		for (unsigned i = 0; i < size; i++)
			uart_write(&vm->com1,
				   (uint16_t)(port - UART_COM1_BASE + i),
				   (uint8_t)(v >> (8 * i)));
		return;
	}
	if (rtc_owns_port(port)) {
		pthread_mutex_lock(&vm->rtc_lock);
		rtc_write(&vm->rtc, port, (uint8_t)v);
		pthread_mutex_unlock(&vm->rtc_lock);
		return;
	}
	if (port == TK_RESULT_PORT && vm->cfg.test_kernel) {
		tk_result(vm, v);
		return;
	}
	a = pm_io_write(&vm->pm, port, size, v);
	if (a == PM_ACTION_POWER_OFF)
		vm_end(vm, VM_POWERED_OFF, "the guest powered off");
	else if (a == PM_ACTION_RESET)
		vm_end(vm, VM_RESET, "the guest asked for a reset");
}

static void port_io(struct exit_ctx *x, const struct hv_message *m)
{
	const struct hv_x64_io_port_intercept_message *io =
		(const void *)m->payload;
	unsigned size = io->access_info & HV_IO_ACCESS_SIZE_MASK;
	static bool told_string;

	if (size != 1 && size != 2 && size != 4)
		size = 1;
	if (io->access_info & HV_IO_ACCESS_STRING) {
		/* No device here takes string I/O: skip it whole. */
		if (!told_string)
			worker_log(x->vm, "string I/O on port 0x%x skipped",
				   io->port_number);
		told_string = true;
		if (io->access_info & HV_IO_ACCESS_REP)
			set_reg(x, HV_REG_RCX, 0);
	} else if (io->header.intercept_access_type ==
		   HV_INTERCEPT_ACCESS_TYPE_READ) {
		uint64_t v = port_read(x->vm, io->port_number, size);
		uint64_t mask = size == 4 ? ~0ull : (1ull << (8 * size)) - 1;

		/* A 32-bit IN zero-extends; narrower ones merge into RAX. */
		set_reg(x, HV_REG_RAX, size == 4 ? (uint32_t)v :
				       (io->rax & ~mask) | (v & mask));
	} else {
		port_write(x->vm, io->port_number, size, (uint32_t)io->rax);
	}
	complete(x, m);
}

/* ------------------------------------------------------------ MSRs */

/* MSRs Linux touches that need a value, not a #GP (per VM, not per VP:
 * none of them matters for correctness in this VM). */
static bool msr_value(uint32_t msr, uint64_t *v)
{
	switch (msr) {
	case 0xfe:		/* MTRRcap: no ranges */
		*v = 0;
		return true;
	case 0x2ff:		/* MTRRdefType: enabled, write-back */
		*v = 0x806;
		return true;
	case 0x8b:		/* AMD patch level */
	case 0xc0010055:	/* interrupt pending message (C1E) */
	case 0xc0010015:	/* HWCR */
	case 0xc0011029:	/* DE_CFG */
		*v = 0;
		return true;
	}
	return false;
}

static bool first_time(uint32_t msr)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint32_t told[32];
	static unsigned int n;
	bool seen = false;

	pthread_mutex_lock(&lock);
	for (unsigned int i = 0; i < n; i++)
		seen |= told[i] == msr;
	if (!seen && n < 32)
		told[n++] = msr;
	pthread_mutex_unlock(&lock);
	return !seen;
}

static void crash_msr(struct exit_ctx *x, uint32_t msr, bool write,
		      uint64_t v)
{
	struct vm *vm = x->vm;
	struct crash_msrs *c = &vm->crash;

	if (!write) {
		set_reg(x, HV_REG_RAX, msr == HV_MSR_CRASH_CTL ?
			(uint32_t)HV_CRASH_CTL_NOTIFY : 0);
		set_reg(x, HV_REG_RDX, msr == HV_MSR_CRASH_CTL ?
			HV_CRASH_CTL_NOTIFY >> 32 : 0);
		return;
	}
	if (msr < HV_MSR_CRASH_CTL) {
		c->p[msr - HV_MSR_CRASH_P0] = v;
		return;
	}
	if (v & HV_CRASH_CTL_NOTIFY)
		vm_end(vm, VM_CRASHED, "the guest crashed (P0-P4 %#llx %#llx "
		       "%#llx %#llx %#llx)", (unsigned long long)c->p[0],
		       (unsigned long long)c->p[1], (unsigned long long)c->p[2],
		       (unsigned long long)c->p[3], (unsigned long long)c->p[4]);
}

static void msr_access(struct exit_ctx *x, const struct hv_message *m)
{
	const struct hv_x64_msr_intercept_message *mi = (const void *)m->payload;
	bool write = mi->header.intercept_access_type ==
		     HV_INTERCEPT_ACCESS_TYPE_WRITE;
	uint64_t v = (mi->rdx << 32) | (uint32_t)mi->rax;

	if (mi->msr_number >= HV_MSR_CRASH_P0 &&
	    mi->msr_number <= HV_MSR_CRASH_CTL) {
		crash_msr(x, mi->msr_number, write, v);
	} else if (msr_value(mi->msr_number, &v)) {
		if (!write) {
			set_reg(x, HV_REG_RAX, (uint32_t)v);
			set_reg(x, HV_REG_RDX, v >> 32);
		}
	} else {
		/* Like hardware without the MSR: #GP, which Linux's
		 * *_safe accessors expect. Say so once per MSR. */
		if (first_time(mi->msr_number))
			worker_log(x->vm, "%s of MSR %#x: #GP", write ?
				   "write" : "read", mi->msr_number);
		mhv_set_reg(&x->vm->part, x->vp, HV_REG_PENDING_INTERRUPTION,
			    GP_FAULT);
		return;		/* a fault: RIP stays */
	}
	complete(x, m);
}

/* ------------------------------------------------------------ hypercalls */

static uint16_t post_message(struct vm *vm, uint64_t gpa)
{
	struct hv_input_post_message in;

	/* The hypervisor checked alignment and that it is the guest's. */
	if (gpa & 7 || gpa + sizeof(in) > vm->mem.size ||
	    (gpa & 0xfff) + sizeof(in) > 0x1000)
		return HV_STATUS_INVALID_ALIGNMENT;
	memcpy(&in, vm->mem.base + gpa, sizeof(in));
	/* RsvdZ: the hypervisor checks it only when no intercept is
	 * installed, so with ours the check is ours. */
	if (in.reserved)
		return HV_STATUS_INVALID_PARAMETER;
	return vmbus_post_message(vm->vmbus, in.connection_id,
				  in.message_type, in.payload,
				  in.payload_size);
}

static void hypercall(struct exit_ctx *x, const struct hv_message *m)
{
	const struct hv_x64_hypercall_intercept_message *h =
		(const void *)m->payload;
	uint16_t status;

	switch (HV_HC_CODE(h->rcx)) {
	case HVCALL_POST_MESSAGE:
		status = post_message(x->vm, h->rdx);
		break;
	case HVCALL_SIGNAL_EVENT:
		/* RDX: connection id, flag number, RsvdZ 63:48 (as above,
		 * the hypervisor leaves that check to us). */
		if (h->rdx >> 48)
			status = HV_STATUS_INVALID_PARAMETER;
		else
			status = vmbus_signal_event(x->vm->vmbus,
						    (uint32_t)h->rdx,
						    (uint16_t)(h->rdx >> 32));
		break;
	default:
		status = HV_STATUS_INVALID_HYPERCALL_CODE;
	}
	set_reg(x, HV_REG_RAX, status);
	complete(x, m);
}

/* ------------------------------------------------------------ the loop */

static void unexpected(struct exit_ctx *x, const struct hv_message *m)
{
	const struct hv_x64_memory_intercept_message *mem =
		(const void *)m->payload;

	switch (m->header.message_type) {
	case HVMSG_UNMAPPED_GPA:
	case HVMSG_GPA_INTERCEPT:
		vm_end(x->vm, VM_FAILED, "VP %u touched GPA %#llx (no device "
		       "there) at rip %#llx", x->vp,
		       (unsigned long long)mem->guest_physical_address,
		       (unsigned long long)mem->header.rip);
		break;
	case HVMSG_UNRECOVERABLE_EXCEPTION:
		vm_end(x->vm, VM_TRIPLE_FAULT, "VP %u triple-faulted at "
		       "%04x:%#llx", x->vp, mem->header.cs.selector,
		       (unsigned long long)mem->header.rip);
		break;
	default:
		vm_end(x->vm, VM_FAILED, "VP %u: unexpected message %#x",
		       x->vp, m->header.message_type);
	}
}

static void serve(struct exit_ctx *x, const struct hv_message *m)
{
	switch (m->header.message_type) {
	case HVMSG_X64_IO_PORT_INTERCEPT:
		port_io(x, m);
		break;
	case HVMSG_X64_MSR_INTERCEPT:
		msr_access(x, m);
		break;
	case HVMSG_HYPERCALL_INTERCEPT:
		hypercall(x, m);
		break;
	default:
		unexpected(x, m);
	}
}

void *vp_thread_main(void *arg)
{
	struct vp_thread *t = arg;
	struct exit_ctx x = { .vm = t->vm, .vp = t->index };
	struct hv_message m;

	while (!vm_ended(t->vm)) {
		int r = mhv_run(&t->vm->part, t->index, &m);

		if (r == -EINTR)
			continue;
		if (r) {
			vm_end(t->vm, VM_FAILED, "VP %u: run: %s", t->index,
			       strerror(-r));
			break;
		}
		x.n = 0;
		serve(&x, &m);
		if (x.n && mhv_set_regs(&t->vm->part, t->index, x.n, x.names,
					x.values))
			vm_end(t->vm, VM_FAILED, "VP %u: cannot complete an "
			       "intercept", t->index);
	}
	return NULL;
}
