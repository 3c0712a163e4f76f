/*
 * GDB remote-protocol framing for the VMM's gdb stub (vmm/gdbpkt.c):
 * packets are assembled from COM2's receive ring a bounded number of
 * bytes at a time, and replies are framed into COM2's transmit ring;
 * numbers and bytes travel in hex.
 */
#ifndef JOS_VMM_GDBPKT_H
#define JOS_VMM_GDBPKT_H

#include <inc/types.h>

/* Largest packet payload either way; advertised in qSupported (hex). */
#define PKT_MAX 4096
#define PKT_MAX_HEX "1000"

/* Error replies: E + errno-like number, as gdb shows them. */
#define ERR_STATE "E01"     /* the target is not stopped / no target */
#define ERR_SYNTAX "E02"    /* a malformed packet */
#define ERR_MEMORY "E14"    /* EFAULT: an address that does not translate */
#define ERR_FULL "E28"      /* ENOSPC: breakpoint table full */

/* What gdbpkt_receive found. */
enum gdbpkt_event {
	GDBPKT_NONE,       /* the byte budget or the input ran out */
	GDBPKT_PACKET,     /* a whole packet, checksum good, acked '+' */
	GDBPKT_BAD,        /* a bad checksum, answered '-' */
	GDBPKT_INTERRUPT,  /* Ctrl-C (0x03) outside a packet */
};

enum gdbpkt_event gdbpkt_receive(unsigned *budget, const char **payload);
bool gdbpkt_can_reply(void);
void gdbpkt_put(const char *data);
int gdbpkt_hexval(int c);
bool gdbpkt_parse_hex(const char **p, uint64_t *v);
bool gdbpkt_parse_range(const char **p, uint64_t *addr, uint64_t *len);
char *gdbpkt_put_hex(char *o, const void *buf, size_t len);
bool gdbpkt_get_hex(const char *s, void *buf, size_t len);

#endif /* !JOS_VMM_GDBPKT_H */
