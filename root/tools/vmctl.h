/* hvctl's VM commands: they talk to each VM's worker (vmctl.c). */
#ifndef ROOT_TOOLS_VMCTL_H
#define ROOT_TOOLS_VMCTL_H

struct vm_command {
	const char *name;
	int (*fn)(const char *vm, int argc, char **argv);
};

extern const struct vm_command vm_commands[];
int vmctl_list(void);

#endif
