/* The VM's partition, memory and VP threads (see worker.h). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "worker.h"

static int create_memory(struct vm *vm)
{
	uint64_t size = vm->cfg.mem_mib << 20;
	int fd = memfd_create(vm->cfg.name, MFD_CLOEXEC);
	void *p;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size)) {
		close(fd);
		return -errno;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	vm->mem = (struct guest_memory){ p, size, fd };
	return 0;
}

int vm_create(struct vm *vm)
{
	int dev, r;

	pthread_mutex_init(&vm->lock, NULL);
	vm->end = VM_RUNNING;
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->wake_fd < 0)
		return -errno;
	r = create_memory(vm);
	if (r)
		return r;
	dev = mhv_open();
	if (dev < 0)
		return dev;
	r = mhv_vm_create(dev, HV_PARTITION_CREATION_LAPIC, &vm->part);
	close(dev);
	if (r)
		return r;
	r = mhv_vm_map(&vm->part, 0, vm->mem.base, vm->mem.size,
		       HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE |
		       HV_MAP_GPA_KERNEL_EXECUTABLE |
		       HV_MAP_GPA_USER_EXECUTABLE);
	if (r)
		return r;
	/* PostMessage and SignalEvent come to us: the VMBus server. */
	r = mhv_install_intercept(&vm->part, HV_INTERCEPT_TYPE_HYPERCALL,
				  HV_INTERCEPT_ACCESS_EXECUTE, 0);
	for (uint32_t i = 0; !r && i < vm->cfg.vps; i++)
		r = mhv_vp_create(&vm->part, i);
	return r;
}

/* SIGUSR1 only interrupts a VP thread's run ioctl (EINTR). */
static void on_kick(int sig)
{
	(void)sig;
}

int vm_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = on_kick };
	int r = 0;

	sigaction(SIGUSR1, &sa, NULL);
	for (uint32_t i = 0; i < vm->cfg.vps && !r; i++)
		r = mhv_set_reg(&vm->part, i, HV_REG_EXPLICIT_SUSPEND, 0);
	for (uint32_t i = 0; i < vm->cfg.vps && !r; i++) {
		struct vp_thread *t = &vm->vps[i];

		*t = (struct vp_thread){ .vm = vm, .index = i };
		r = -pthread_create(&t->thread, NULL, vp_thread_main, t);
		t->started = !r;
	}
	return r;
}

void vm_end(struct vm *vm, enum vm_end end, const char *fmt, ...)
{
	uint64_t one = 1;
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (vm->end == VM_RUNNING) {
		vm->end = end;
		va_start(ap, fmt);
		vsnprintf(vm->end_why, sizeof(vm->end_why), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&vm->lock);
	/* Threads draining a channel come back after the packet in hand,
	 * so vm_stop_vps does not wait for a guest's queue of I/O. */
	if (vm->vmbus)
		vmbus_server_stop(vm->vmbus);
	if (write(vm->wake_fd, &one, sizeof(one)) < 0)
		worker_log(vm, "cannot wake the main loop");
}

bool vm_ended(struct vm *vm)
{
	bool ended;

	pthread_mutex_lock(&vm->lock);
	ended = vm->end != VM_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	return ended;
}

/* Every VP thread sees the end at its next EINTR and returns. */
void vm_stop_vps(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->cfg.vps; i++) {
		if (!vm->vps[i].started)
			continue;
		while (pthread_tryjoin_np(vm->vps[i].thread, NULL) == EBUSY) {
			pthread_kill(vm->vps[i].thread, SIGUSR1);
			usleep(1000);
		}
		vm->vps[i].started = false;
	}
}

void vm_destroy(struct vm *vm)
{
	vm_stop_vps(vm);
	if (vm->vmbus)
		vmbus_server_destroy(vm->vmbus);
	if (vm->part.fd > 0)
		mhv_vm_destroy(&vm->part);
	if (vm->mem.base)
		munmap(vm->mem.base, vm->mem.size);
	if (vm->mem.fd > 0)
		close(vm->mem.fd);
}
