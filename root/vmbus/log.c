/*
 * "Refused and logged once": each kind of guest misbehaviour is reported
 * the first time only, server-wide for control messages and per channel
 * for rings and packets, so a hostile guest cannot flood the log.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

#define LOG_LINE_MAX 256

/* Each line names its kind after the prefix: "vmbus: bad-gpadl: ...". */
static const char *const server_kind_names[] = {
	[SLOG_SHORT_MESSAGE] = "short-message",
	[SLOG_UNKNOWN_MESSAGE] = "unknown-message",
	[SLOG_NOT_CONNECTED] = "not-connected",
	[SLOG_BAD_TARGET_VP] = "bad-target-vp",
	[SLOG_BAD_RELID] = "bad-relid",
	[SLOG_BAD_STATE] = "bad-state",
	[SLOG_BAD_GPADL] = "bad-gpadl",
	[SLOG_GPADL_LIMIT] = "gpadl-limit",
	[SLOG_BAD_OPEN] = "bad-open",
	[SLOG_BAD_MODIFY] = "bad-modify",
	[SLOG_UNSUPPORTED] = "unsupported",
	[SLOG_OUTBOX_FULL] = "outbox-full",
	[SLOG_POST_FAILED] = "post-failed",
	[SLOG_BAD_SYNIC_MESSAGE] = "bad-synic-message",
	[SLOG_BAD_VERSION] = "bad-version",
};

static const char *const chan_kind_names[] = {
	[CLOG_RING_CORRUPT] = "ring-corrupt",
	[CLOG_PACKET_TOO_BIG] = "packet-too-big",
	[CLOG_BAD_RANGES] = "bad-ranges",
	[CLOG_SEND_TOO_BIG] = "send-too-big",
	[CLOG_SIGNAL_FAILED] = "signal-failed",
	[CLOG_BAD_GPA] = "bad-gpa",
};

static bool first_time64(uint64_t *mask, unsigned int kind)
{
	uint64_t bit = 1ull << kind;

	return !(__atomic_fetch_or(mask, bit, __ATOMIC_RELAXED) & bit);
}

static bool first_time32(uint32_t *mask, unsigned int kind)
{
	uint32_t bit = 1u << kind;

	return !(__atomic_fetch_or(mask, bit, __ATOMIC_RELAXED) & bit);
}

static void emit(struct vmbus_server *s, const char *prefix, const char *fmt,
		 va_list ap)
{
	char line[LOG_LINE_MAX];
	int n;

	if (!s->ops.log)
		return;
	n = snprintf(line, sizeof(line), "%s", prefix);
	if (n < 0 || n >= (int)sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	s->ops.log(s->ctx, line);
}

void server_log_once(struct vmbus_server *s, enum server_log_kind kind,
		     const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	if (!first_time64(&s->logged, kind))
		return;
	snprintf(prefix, sizeof(prefix), "vmbus: %s: ",
		 server_kind_names[kind]);
	va_start(ap, fmt);
	emit(s, prefix, fmt, ap);
	va_end(ap);
}

/* Provider kinds have no name here: their text starts with their own. */
static void chan_vlog_once(struct vmbus_channel *ch, unsigned int kind,
			   const char *fmt, va_list ap)
{
	char prefix[96];
	int n;

	if (kind >= 32 || !first_time32(&ch->logged, kind))
		return;
	n = snprintf(prefix, sizeof(prefix), "vmbus %s relid %u: ",
		     ch->desc.name, ch->relid);
	if (kind < VMBUS_LOG_DEVICE(0) && n > 0 && n < (int)sizeof(prefix))
		snprintf(prefix + n, sizeof(prefix) - n, "%s: ",
			 chan_kind_names[kind]);
	emit(ch->server, prefix, fmt, ap);
}

void vmbus_chan_log_once(struct vmbus_channel *ch, unsigned int kind,
			 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	chan_vlog_once(ch, kind, fmt, ap);
	va_end(ap);
}
