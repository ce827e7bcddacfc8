/*
 * A SCSI direct-access target (one LUN) over a raw image file: what
 * storvsp (the VMBus storage provider) hands each EXECUTE_SRB to. Pure
 * code apart from pread/pwrite/fdatasync on the image; host unit-tested.
 *
 * Durability: the target reports a write-back cache (WCE=1). A write is
 * done with pwrite before it completes; SYNCHRONIZE CACHE and writes
 * with FUA complete only after an fdatasync that started after every
 * write completed before them, so no write the guest saw acknowledged
 * after a flush can be lost. A flush with nothing written since the
 * last fdatasync began calls none, and flushes that arrive while one is
 * running wait for it instead of starting their own (a guest that
 * floods SYNCHRONIZE CACHE costs one fdatasync per write, not one per
 * request).
 */
#ifndef ROOT_VSP_SCSI_H
#define ROOT_VSP_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#define SCSI_SENSE_MAX 20		/* what storvsc has room for */

/*
 * The most blocks one WRITE SAME may cover (1 MiB), published in the
 * Block Limits VPD page, with WSNZ: a request is I/O done synchronously
 * for the guest, so its size is bounded like a WRITE's. Linux's sd
 * splits write-zeroes to it.
 */
#define SCSI_WRITE_SAME_MAX_BLOCKS 2048u

/* SAM status codes. */
#define SCSI_STATUS_GOOD 0x00
#define SCSI_STATUS_CHECK_CONDITION 0x02

struct scsi_disk {
	int fd;				/* the image, opened by scsi_disk_open */
	uint64_t size;			/* bytes; a multiple of block_size */
	uint32_t block_size;		/* 512 */
	bool read_only;
	char serial[21];		/* VPD 0x80, NUL-terminated */
	uint8_t naa[8];			/* VPD 0x83 NAA designator */

	/* Flushes (scsi.c), set up by scsi_disk_open; under flush_lock
	 * except writes, which is atomic. */
	pthread_mutex_t flush_lock;
	pthread_cond_t flush_done;	/* a running fdatasync ended */
	uint64_t writes;		/* writes finished so far */
	uint64_t synced;		/* writes a finished fdatasync covers */
	bool flushing;			/* an fdatasync is running */
	uint64_t syncs;			/* fdatasync calls made */
	int (*sync)(int fd);		/* NULL: fdatasync (tests set it) */
};

/* The buffer a command reads into or writes from (guest memory). */
struct scsi_data {
	const struct iovec *iov;
	int iovcnt;
	size_t len;			/* total bytes the initiator offers */
	bool to_device;			/* WRITE-like (data out) */
};

struct scsi_result {
	uint8_t status;			/* SCSI_STATUS_* */
	uint8_t sense_len;		/* bytes valid in sense (fixed format) */
	uint8_t sense[SCSI_SENSE_MAX];
	uint32_t transferred;		/* bytes actually moved */
	uint64_t io_bytes;		/* of the image read or written (a
					 * WRITE SAME's whole range): what
					 * the command cost, for budgets */
};

/*
 * Opens path as the disk (O_RDWR, or O_RDONLY if read_only). The size is
 * the file's (or block device's) size rounded down to 512 bytes; an image
 * smaller than one block is refused. serial/naa derive from id. Returns 0
 * or -errno; *why (if why is not NULL) says what went wrong for the user.
 * On failure d->fd is -1, so scsi_disk_close(d) is harmless.
 */
int scsi_disk_open(struct scsi_disk *d, const char *path, bool read_only,
		   uint32_t id, const char **why);
void scsi_disk_close(struct scsi_disk *d);

/*
 * Executes one CDB against the disk. Never fails as a call: every error
 * (unsupported opcode, LBA out of range, short buffer, I/O error) is a
 * CHECK CONDITION with fixed-format sense in r. r is fully overwritten;
 * r->transferred is what was really moved, also on an error part-way.
 *
 * cdb must hold cdb_len readable bytes. data may be NULL (no buffer). Only
 * min(data->len, sum of iov_len) bytes are ever touched. A non-empty
 * buffer whose direction (to_device) disagrees with the command's is an
 * INVALID FIELD IN CDB; commands without data ignore the buffer.
 * Data-in answers are cut to the allocation length and the buffer;
 * READ and WRITE need room for the whole transfer.
 *
 * Besides the commands in hyperv-guest-abi.md 7.4 this implements WRITE
 * SAME(10/16) without UNMAP, as Hyper-V does. Linux 6.1's sd never sends
 * it (storvsc's host template sets no_write_same, which sd applies
 * after storvsc's slave_configure cleared it for "Msft" at 6.2), but a
 * guest can through SG_IO, so it is bounded. REPORT LUNS lists LUN 0:
 * the disk does not know its LUN, so a target with the disk elsewhere
 * should answer REPORT LUNS itself.
 *
 * WRITE SAME covers 1 to SCSI_WRITE_SAME_MAX_BLOCKS blocks (0, "to the
 * end", is refused: the Block Limits page sets WSNZ); a pattern of
 * zeroes punches a hole (or zeroes a range) where the file allows.
 *
 * Sense is always returned with the failure; the only state kept
 * between calls is the flush bookkeeping, under its own lock, so
 * threads may call this concurrently on one disk.
 */
void scsi_execute(struct scsi_disk *d, const uint8_t *cdb, uint8_t cdb_len,
		  const struct scsi_data *data, struct scsi_result *r);

/*
 * A command for a LUN that does not exist on a target: INQUIRY answers
 * peripheral qualifier 3 (0x7f; a VPD request gets an empty page with
 * that byte), REPORT LUNS an empty list (or, with lun0_present, LUN 0),
 * and both return true with r filled in (a malformed CDB is a CHECK
 * CONDITION as for scsi_execute). Anything else returns false: the
 * caller reports the transport status INVALID_LUN.
 */
bool scsi_execute_absent(const uint8_t *cdb, uint8_t cdb_len,
			 const struct scsi_data *data, bool lun0_present,
			 struct scsi_result *r);

#endif
