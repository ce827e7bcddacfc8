/*
 * The KVM side of make bench: a minimal VMM on /dev/kvm that runs
 * guest.S and prints its path lengths. Built static into the bench
 * initramfs of a Debian kernel booted in the same QEMU as microhv.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define N 2000
#define MEM (64 * 1024)

extern const unsigned char kvm_guest_start[], kvm_guest_end[];

static int must(int r, const char *what)
{
	if (r < 0) {
		perror(what);
		exit(1);
	}
	return r;
}

int main(void)
{
	int kvm = must(open("/dev/kvm", O_RDWR), "/dev/kvm");
	int vm = must(ioctl(kvm, KVM_CREATE_VM, 0), "KVM_CREATE_VM");
	unsigned char *mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM,
		.userspace_addr = (uintptr_t)mem,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	struct kvm_run *run;
	int vcpu, size;
	uint32_t hypercall = 0, io = 0;

	memcpy(mem + 0x1000, kvm_guest_start, kvm_guest_end - kvm_guest_start);
	must(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region), "memory");
	vcpu = must(ioctl(vm, KVM_CREATE_VCPU, 0), "KVM_CREATE_VCPU");
	size = must(ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), "mmap size");
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	must(ioctl(vcpu, KVM_GET_SREGS, &sregs), "get sregs");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	must(ioctl(vcpu, KVM_SET_SREGS, &sregs), "set sregs");
	must(ioctl(vcpu, KVM_SET_REGS, &regs), "set regs");
	for (;;) {
		must(ioctl(vcpu, KVM_RUN, 0), "KVM_RUN");
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "kvm-bench: exit %u\n", run->exit_reason);
			return 1;
		}
		uint32_t v;
		memcpy(&v, (char *)run + run->io.data_offset, 4);
		if (run->io.port == 0xe0)
			hypercall = v;
		else if (run->io.port == 0xe4)
			io = v;
	}
	printf("kvm-bench: null_hypercall %u\n", hypercall / N);
	printf("kvm-bench: io_roundtrip %u\n", io / N);
	return 0;
}
