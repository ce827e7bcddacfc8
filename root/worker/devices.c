/*
 * The child's VMBus devices: one SCSI controller (storvsp) per disk,
 * each disk its LUN 0, plus the heartbeat and shutdown integration
 * services. SynIC deliveries go through the microhv driver.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vsp/ic.h"
#include "../vsp/scsi.h"
#include "../vsp/storvsp.h"
#include "worker.h"

#define VMBUS_MESSAGE_SINT 2
#define HEARTBEAT_MS 2000

static int post_message(void *ctx, uint32_t vp, uint32_t msg_type,
			const void *payload, uint32_t len)
{
	struct vm *vm = ctx;
	struct hv_message m = { .header = { .message_type = msg_type,
					    .payload_size = (uint8_t)len } };

	if (len > sizeof(m.payload))
		return -EINVAL;
	memcpy(m.payload, payload, len);
	return mhv_post_message(&vm->part, vp, VMBUS_MESSAGE_SINT, &m);
}

static int signal_event(void *ctx, uint32_t vp, uint32_t relid)
{
	struct vm *vm = ctx;

	return mhv_signal_event(&vm->part, vp, VMBUS_MESSAGE_SINT, relid, NULL);
}

static void vmbus_log(void *ctx, const char *msg)
{
	worker_log(ctx, "%s", msg);
}

static const struct vmbus_host_ops host_ops = {
	.post_message = post_message,
	.signal_event = signal_event,
	.log = vmbus_log,
};

/* Instance GUIDs: stable per VM name and device, so the guest sees the
 * same controller on every boot. */
static struct vmbus_guid instance_guid(const char *name, uint32_t n)
{
	struct vmbus_guid g = { 0 };
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	h ^= n;
	memcpy(&g, &h, sizeof(h));
	h *= 1099511628211ull;
	memcpy((uint8_t *)&g + 8, &h, sizeof(h));
	return g;
}

static int add_disk(struct vm *vm, unsigned int i)
{
	struct scsi_disk *d = calloc(1, sizeof(*d));
	struct storvsp_config c = { .instance = instance_guid(vm->cfg.name, i),
				    .disk = d };
	const char *why = "";
	int r;

	if (!d)
		return -ENOMEM;
	r = scsi_disk_open(d, vm->cfg.disks[i], false, i + 1, &why);
	if (r) {
		worker_log(vm, "disk %s: %s", vm->cfg.disks[i], why);
		free(d);
		return r;
	}
	r = storvsp_add(vm->vmbus, &c, NULL);
	if (r)
		worker_log(vm, "disk %s: storvsp: %s", vm->cfg.disks[i],
			   strerror(-r));
	return r;
}

int devices_create(struct vm *vm)
{
	struct vmbus_server_config c = { .ops = &host_ops, .ctx = vm,
					 .mem = vm->mem,
					 .vp_count = vm->cfg.vps };
	struct vmbus_guid hb = instance_guid(vm->cfg.name, 100);
	struct vmbus_guid sd = instance_guid(vm->cfg.name, 101);
	int r = vmbus_server_create(&c, &vm->vmbus);

	for (unsigned int i = 0; !r && i < vm->cfg.n_disks; i++)
		r = add_disk(vm, i);
	if (!r)
		r = ic_heartbeat_add(vm->vmbus, &hb, HEARTBEAT_MS,
				     &vm->heartbeat_ic);
	if (!r)
		r = ic_shutdown_add(vm->vmbus, &sd, &vm->shutdown_ic);
	return r;
}

void devices_tick(struct vm *vm, uint64_t now_ms)
{
	vmbus_server_tick(vm->vmbus, now_ms);
}

int devices_request_shutdown(struct vm *vm)
{
	struct ic_shutdown_req req = { .flags = IC_SHUTDOWN_POWEROFF,
				       .message = "hvctl stop" };

	return ic_shutdown_request(vm->shutdown_ic, &req);
}
