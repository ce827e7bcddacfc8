/*
 * debug-exit CODE: writes CODE to QEMU's isa-debug-exit port (0xf4), so
 * that a test running in root Linux ends QEMU with status (CODE<<1)|1.
 * The root partition owns the I/O ports, so this reaches the device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: debug-exit CODE\n");
		return 2;
	}
	if (ioperm(0xf4, 4, 1)) {
		perror("debug-exit: ioperm");
		return 1;
	}
	outl((unsigned int)strtoul(argv[1], NULL, 0), 0xf4);
	return 1;	/* QEMU is gone if the device exists */
}
