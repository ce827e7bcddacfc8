/* Channel-message handling (control.c); every call with the server lock. */
#ifndef ROOT_VMBUS_CONTROL_H
#define ROOT_VMBUS_CONTROL_H

#include "internal.h"

/* One guest message of size bytes (<= 240), in a private copy. */
void control_dispatch(struct vmbus_server *s, const void *msg, uint32_t size);
/* Drops the connection without a word to the guest (reset, destroy). */
void control_disconnect(struct vmbus_server *s);
/* Sends ch's OFFERCHANNEL. */
void control_offer(struct vmbus_server *s, struct vmbus_channel *ch);
/* Host-initiated removal of ch; 0 or -EALREADY. */
int control_rescind(struct vmbus_server *s, struct vmbus_channel *ch);
/* The offered channel whose doorbell is connection_id, or NULL. */
struct vmbus_channel *control_find_doorbell(struct vmbus_server *s,
					    uint32_t connection_id);

#endif
