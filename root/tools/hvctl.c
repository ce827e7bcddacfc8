/*
 * hvctl: the microhv command line in the root partition.
 *
 *   hvctl info
 *       what the hypervisor reports: scheduler, CPUs, its free pages,
 *       children alive, pages deposited
 *   hvctl run-tk [--arg N] [--mem MiB] [--share FILE@GPA] KERNEL.elf
 *       runs a test kernel (tests/kernels) as a child partition and
 *       exits with its result: 0 SUCCESS, 1 SKIP, 2 ERROR, 3 FAILURE,
 *       4 CRASH; 10 stopped at an unmapped GPA, 11 halted, 12 triple
 *       fault, 13 invalid state, 14 another intercept; 20+ hvctl failed.
 *
 *   hvctl start NAME --kernel BZIMAGE [--initrd F] [--cmdline S]
 *               [--mem MiB] [--vps N] [--disk IMAGE]...
 *       starts a Linux VM: its own worker process (microhv-worker),
 *       logging to /run/microhv/NAME.log
 *   hvctl run NAME ...      start, attach the console, wait for the end
 *   hvctl console NAME      attach the console (Ctrl-] detaches; the VM
 *                           keeps running)
 *   hvctl stop NAME [--force] [--timeout S]
 *       asks the guest to shut down and waits (--force: turn it off;
 *       a worker that does not answer in 5 s, or does not end the VM
 *       in 10 s more, is killed, and its VM with it)
 *   hvctl wait NAME         until the VM ends; exit status says why
 *   hvctl list              the VMs running ("not-answering NAME" for
 *                           a worker silent for 5 s)
 *
 * VM exit statuses (hvctl run/wait/stop): 0 powered off, 1 reset, 2 the
 * guest crashed, 3 triple fault, 4 turned off, 5 worker failure.
 * Requests to a worker time out after 5 s with a message (exit 20).
 *
 * run-tk intercepts follow the generic policy the test kernels know
 * (tkproto.h): console and result ports, IN reads all ones, other OUTs
 * are ignored, MSRs the hypervisor does not own get #GP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <microhv/tkproto.h>
#include <hv/mbimage.h>
#include "../lib/libmicrohv.h"
#include "vmctl.h"

enum { EXIT_UNMAPPED = 10, EXIT_HALT, EXIT_TRIPLE, EXIT_INVALID, EXIT_OTHER,
       EXIT_HVCTL = 20 };

static const char *const results[] = {
	"SUCCESS", "SKIP", "ERROR", "FAILURE", "CRASH",
};

static void die(const char *what, int err)
{
	fprintf(stderr, "hvctl: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(EXIT_HVCTL);
}

static int cmd_info(void)
{
	struct mhv_info i;
	int dev = mhv_open(), r;

	if (dev < 0)
		die("/dev/microhv", dev);
	r = mhv_info(dev, &i);
	if (r)
		die("info", r);
	printf("scheduler %s, %u CPUs\n",
	       i.scheduler_type == HV_SCHEDULER_TYPE_ROOT ? "root" : "?",
	       i.nr_cpus);
	printf("hypervisor free pages %llu\n", (unsigned long long)i.hv_free_pages);
	printf("partitions %llu\n", (unsigned long long)i.partitions);
	printf("deposited pages %llu\n", (unsigned long long)i.deposited_pages);
	printf("driver pages %llu\n", (unsigned long long)i.module_pages);
	return 0;
}

struct child {
	struct mhv_vm vm;
	uint8_t *mem;
	uint64_t mem_size;
	char line[256];
	size_t len;
};

static void load_image(struct child *c, const char *path, uint64_t arg)
{
	struct stat st;
	struct mbimage_plan plan;
	const char *err;
	uint8_t *img;
	int fd = open(path, O_RDONLY);
	struct tk_child_info info = { TK_CHILD_MAGIC, 0, arg };

	if (fd < 0 || fstat(fd, &st))
		die(path, errno);
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		die(path, errno);
	err = mbimage_parse(img, st.st_size, &plan);
	if (err) {
		fprintf(stderr, "hvctl: %s: %s\n", path, err);
		exit(EXIT_HVCTL);
	}
	for (uint32_t i = 0; i < plan.nseg; i++) {
		const struct mbimage_segment *s = &plan.seg[i];

		if (s->paddr + s->memsz > c->mem_size) {
			fprintf(stderr, "hvctl: %s does not fit in %llu MiB\n",
				path, (unsigned long long)c->mem_size >> 20);
			exit(EXIT_HVCTL);
		}
		memcpy(c->mem + s->paddr, img + s->file_off, s->filesz);
	}
	memcpy(c->mem + TK_CHILD_INFO_GPA, &info, sizeof(info));
	munmap(img, st.st_size);
	close(fd);
	int r = mhv_set_tk_entry(&c->vm, plan.entry);

	r = r ? r : mhv_set_reg(&c->vm, 0, HV_REG_EXPLICIT_SUSPEND, 0);
	if (r)
		die("setting the child's registers", r);
}

static void console(struct child *c, char ch)
{
	if (ch == '\n' || c->len == sizeof(c->line) - 1) {
		printf("[child] %.*s\n", (int)c->len, c->line);
		fflush(stdout);
		c->len = 0;
		if (ch == '\n')
			return;
	}
	c->line[c->len++] = ch;
}

/* Port I/O: returns a result (>= 0) when the child reported one. */
static int port_io(struct child *c, const struct hv_message *m)
{
	const struct hv_x64_io_port_intercept_message *io =
		(const void *)m->payload;
	uint64_t rip = io->header.rip + io->header.instruction_length;
	unsigned size = io->access_info & HV_IO_ACCESS_SIZE_MASK;
	int result = -1;

	if (io->header.intercept_access_type == HV_INTERCEPT_ACCESS_TYPE_READ) {
		uint64_t ones = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
		uint64_t rax = size == 4 ? ones : (io->rax & ~ones) | ones;

		mhv_set_reg(&c->vm, 0, HV_REG_RAX, rax);
	} else if (io->port_number == TK_CONSOLE_PORT) {
		console(c, (char)io->rax);
	} else if (io->port_number == TK_RESULT_PORT) {
		result = (int)(io->rax & 0xff) - TK_EXIT_BASE;
	}
	if (io->access_info & HV_IO_ACCESS_STRING)	/* skip string I/O */
		mhv_set_reg(&c->vm, 0, HV_REG_RCX, 0);
	mhv_set_reg(&c->vm, 0, HV_REG_RIP, rip);
	return result;
}

static int stopped(const struct hv_message *m)
{
	const struct hv_x64_memory_intercept_message *mem =
		(const void *)m->payload;

	switch (m->header.message_type) {
	case HVMSG_UNMAPPED_GPA:
	case HVMSG_GPA_INTERCEPT:
		printf("hvctl: child stopped: unmapped GPA 0x%llx (%s)\n",
		       (unsigned long long)mem->guest_physical_address,
		       mem->header.intercept_access_type == 0 ? "read" :
		       mem->header.intercept_access_type == 1 ? "write" :
								"execute");
		return EXIT_UNMAPPED;
	case HVMSG_X64_HALT:
		printf("hvctl: child halted\n");
		return EXIT_HALT;
	case HVMSG_UNRECOVERABLE_EXCEPTION:
		printf("hvctl: child triple-faulted\n");
		return EXIT_TRIPLE;
	case HVMSG_INVALID_VP_REGISTER_VALUE:
		printf("hvctl: child VP state invalid\n");
		return EXIT_INVALID;
	default:
		printf("hvctl: child stopped: message 0x%x\n",
		       m->header.message_type);
		return EXIT_OTHER;
	}
}

static int run(struct child *c)
{
	struct hv_message m;

	for (;;) {
		int r = mhv_run(&c->vm, 0, &m);

		if (r == -EINTR)
			continue;
		if (r)
			die("run", r);
		if (m.header.message_type == HVMSG_X64_IO_PORT_INTERCEPT) {
			r = port_io(c, &m);
			if (r >= 0) {
				printf("hvctl: child result %s\n",
				       r < 5 ? results[r] : "?");
				return r;
			}
			continue;
		}
		if (m.header.message_type == HVMSG_X64_MSR_INTERCEPT) {
			/* Not the hypervisor's: #GP(0), like real hardware. */
			mhv_set_reg(&c->vm, 0, HV_REG_PENDING_INTERRUPTION,
				    1 | (3 << 1) | (1 << 4) | (13ull << 16));
			continue;
		}
		return stopped(&m);
	}
}

static void share(struct child *c, const char *spec)
{
	char path[256];
	const char *at = strchr(spec, '@');
	uint64_t gpa;
	void *page;
	int fd, r;

	if (!at || (size_t)(at - spec) >= sizeof(path))
		die("--share wants FILE@GPA", EINVAL);
	memcpy(path, spec, at - spec);
	path[at - spec] = 0;
	gpa = strtoull(at + 1, NULL, 0);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 4096))
		die(path, errno);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED)
		die(path, errno);
	r = mhv_vm_map(&c->vm, gpa, page, 4096, 0x3);
	if (r)
		die("mapping the shared page", r);
}

static int cmd_run_tk(int argc, char **argv)
{
	struct child c = { .mem_size = 8ull << 20 };
	uint64_t arg = TK_ARG_GENERIC;
	const char *shares[4];
	int nshare = 0, dev, r, i;

	for (i = 0; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--arg"))
			arg = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--mem"))
			c.mem_size = strtoull(argv[++i], NULL, 0) << 20;
		else if (!strcmp(argv[i], "--share") && nshare < 4)
			shares[nshare++] = argv[++i];
		else
			break;
	}
	if (i != argc - 1 || !c.mem_size || c.mem_size > (1ull << 34))
		die("usage: hvctl run-tk [--arg N] [--mem MiB] "
		    "[--share FILE@GPA] KERNEL.elf", EINVAL);
	dev = mhv_open();
	if (dev < 0)
		die("/dev/microhv", dev);
	r = mhv_vm_create(dev, 0, &c.vm);
	if (r)
		die("creating the partition", r);
	c.mem = mmap(NULL, c.mem_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c.mem == MAP_FAILED)
		die("guest memory", errno);
	r = mhv_vm_map(&c.vm, 0, c.mem, c.mem_size, 0xf);
	if (r)
		die("mapping guest memory", r);
	for (int s = 0; s < nshare; s++)
		share(&c, shares[s]);
	r = mhv_vp_create(&c.vm, 0);
	if (r)
		die("creating the VP", r);
	load_image(&c, argv[argc - 1], arg);
	r = run(&c);
	mhv_vm_destroy(&c.vm);
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "info"))
		return cmd_info();
	if (argc >= 3 && !strcmp(argv[1], "run-tk"))
		return cmd_run_tk(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return vmctl_list();
	if (argc >= 3)
		for (const struct vm_command *c = vm_commands; c->name; c++)
			if (!strcmp(argv[1], c->name))
				return c->fn(argv[2], argc - 3, argv + 3);
	fprintf(stderr, "usage: hvctl info | list | run-tk [options] KERNEL.elf"
		" | start|run NAME [options] | console|wait NAME |"
		" stop NAME [--force]\n");
	return EXIT_HVCTL;
}
