/*
 * reader.c -- turns a connection's byte stream into MessagePack-RPC
 * messages, enforcing the input limits before msgpack-c allocates.
 *
 * msgpack-c has no limits of its own: an array header of 5 bytes makes it
 * allocate count * sizeof(msgpack_object) at once. So bytes first go
 * through a structural scanner that only reads headers and skips payloads,
 * finding where the next message ends while checking depth, declared
 * counts, object count and size. Only a complete message that passed is
 * handed to msgpack_unpack_next(), which then allocates at most about
 * max_objects * sizeof(msgpack_object).
 *
 * The scanner is resumable: its state (offset, a stack of remaining
 * element counts, object count) survives until more bytes arrive, so a
 * large message arriving in small reads is scanned once, not rescanned.
 * Its state is kept relative to the message start, so compacting the
 * buffer does not disturb it.
 *
 * Buffer: one contiguous block; [start, end) holds received bytes not yet
 * returned as messages. Returned messages point into it, so it is only
 * moved (compacted or grown) by proto_reader_space(), which the caller
 * calls only once done with the previous message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/*
 * msgpack-c's unpacker fails beyond this nesting (MSGPACK_EMBED_STACK_SIZE,
 * 32 unless the library was built otherwise); max_depth is clamped to it.
 */
#define READER_DEPTH_CAP  32u
#define READER_FIRST_SIZE 4096u
/* Room beyond max_message, so that a full read still fits near the limit. */
#define READER_SLACK (64u * 1024)

struct proto_reader {
        struct proto_limits lim;
        char *buf;
        size_t cap;
        size_t start; /* first byte of the message being scanned */
        size_t end;   /* end of committed bytes */

        /* Scanner state for the message at start. */
        uint64_t scan;    /* next header offset; may pass end while skipping a payload */
        uint64_t objects; /* objects seen so far */
        uint64_t pending; /* elements still expected by all open containers */
        unsigned depth;   /* open containers */
        bool done;        /* the root object is complete (its payload may still be arriving) */
        uint64_t left[READER_DEPTH_CAP]; /* elements still expected, per open container */

        msgpack_zone
            *zone;   /* reused for every message: one allocation per reader, not per message */
        bool failed; /* after -1, every call returns the same error */
        struct proto_error fail;
};

/* One header as read by hdr_parse(). */
enum item_kind { ITEM_SCALAR, ITEM_ARRAY, ITEM_MAP };
struct item {
        enum item_kind kind;
        size_t hdr;   /* bytes of the header, including fixed-size values */
        uint64_t len; /* payload bytes (scalars) or element count (containers) */
};

void
proto_limits_default(struct proto_limits *lim)
{
        lim->max_message = PROTO_MAX_MESSAGE_DEFAULT;
        lim->max_depth = PROTO_MAX_DEPTH_DEFAULT;
        lim->max_objects = PROTO_MAX_OBJECTS_DEFAULT;
}

/* Limits of 0 take the default; depth is capped at what msgpack-c handles. */
struct proto_reader *
proto_reader_new(const struct proto_limits *lim)
{
        struct proto_reader *rd;

        if ((rd = calloc(1, sizeof *rd)) == NULL)
                return NULL;
        proto_limits_default(&rd->lim);
        if (lim != NULL) {
                if (lim->max_message != 0)
                        rd->lim.max_message = lim->max_message;
                if (lim->max_depth != 0)
                        rd->lim.max_depth = lim->max_depth;
                if (lim->max_objects != 0)
                        rd->lim.max_objects = lim->max_objects;
        }
        if (rd->lim.max_depth > READER_DEPTH_CAP)
                rd->lim.max_depth = READER_DEPTH_CAP;
        return rd;
}

void
proto_reader_free(struct proto_reader *rd)
{
        if (rd == NULL)
                return;
        if (rd->zone != NULL)
                msgpack_zone_free(rd->zone);
        free(rd->buf);
        free(rd);
}

size_t
proto_reader_pending(const struct proto_reader *rd)
{
        return rd->end - rd->start;
}

void
proto_reader_trim(struct proto_reader *rd, size_t keep)
{
        if (rd->end != rd->start || rd->cap <= keep)
                return;
        free(rd->buf);
        rd->buf = NULL;
        rd->cap = rd->start = rd->end = 0;
}

/*
 * Move unconsumed bytes to the front when the consumed part is at least
 * half the buffer (so each byte is moved O(1) times on average) or when
 * that is what it takes to offer want bytes without growing.
 */
static void
reader_compact(struct proto_reader *rd, size_t want)
{
        size_t live = rd->end - rd->start;

        if (rd->start == 0)
                return;
        if (live == 0) {
                rd->start = rd->end = 0;
                return;
        }
        if (rd->start < rd->cap / 2 && rd->cap - rd->end >= want)
                return;
        memmove(rd->buf, rd->buf + rd->start, live);
        rd->start = 0;
        rd->end = live;
}

/* Grow to hold want more bytes: doubling, but not far past max_message. */
static int
reader_grow(struct proto_reader *rd, size_t want)
{
        size_t need, newcap, limit;
        char *p;

        if (want > SIZE_MAX - rd->end)
                goto nomem;
        need = rd->end + want;
        newcap = rd->cap != 0 ? rd->cap : READER_FIRST_SIZE;
        while (newcap < need) {
                if (newcap > SIZE_MAX / 2) {
                        newcap = need;
                        break;
                }
                newcap *= 2;
        }
        limit = rd->lim.max_message + READER_SLACK;
        if (limit < rd->lim.max_message)
                limit = SIZE_MAX;
        if (newcap > limit)
                newcap = need > limit ? need : limit;
        if ((p = realloc(rd->buf, newcap)) == NULL)
                return -1;
        rd->buf = p;
        rd->cap = newcap;
        return 0;
nomem:
        errno = ENOMEM;
        return -1;
}

/*
 * Always at least want bytes (want 0 means 1), else NULL with errno set.
 * May move the buffer: messages returned earlier are no longer valid.
 */
void *
proto_reader_space(struct proto_reader *rd, size_t want, size_t *avail)
{
        if (want == 0)
                want = 1;
        reader_compact(rd, want);
        if (rd->cap - rd->end < want && reader_grow(rd, want) < 0) {
                *avail = 0;
                return NULL;
        }
        *avail = rd->cap - rd->end;
        return rd->buf + rd->end;
}

void
proto_reader_commit(struct proto_reader *rd, size_t n)
{
        if (n > rd->cap - rd->end)
                abort(); /* the caller wrote past the space it was given */
        rd->end += n;
}

static uint64_t
be16(const unsigned char *p)
{
        return (uint64_t)p[0] << 8 | p[1];
}

static uint64_t
be32(const unsigned char *p)
{
        return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
}

/*
 * Decode the header at p (n > 0 bytes available). Returns 1 and fills it,
 * 0 if the header is cut short, -1 for the never-used byte 0xc1.
 * Ext headers count their type byte as part of the header.
 */
static int
hdr_parse(const unsigned char *p, size_t n, struct item *it)
{
        unsigned char b = p[0];
        size_t lenbytes = 0; /* width of a big-endian length/count after b */

        it->kind = ITEM_SCALAR;
        it->hdr = 1;
        it->len = 0;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
                return 1;
        if (b <= 0xbf) { /* fixmap 0x8_, fixarray 0x9_, fixstr 0xa0..0xbf */
                it->kind = b <= 0x8f ? ITEM_MAP : b <= 0x9f ? ITEM_ARRAY : ITEM_SCALAR;
                it->len = b <= 0x9f ? (b & 0x0f) : (b & 0x1f);
                return 1;
        }
        switch (b) {
        case 0xc1:
                return -1;
        case 0xc4:
        case 0xc5:
        case 0xc6: /* bin 8/16/32 */
                lenbytes = (size_t)1 << (b - 0xc4);
                break;
        case 0xc7:
        case 0xc8:
        case 0xc9: /* ext 8/16/32: length, then type */
                lenbytes = (size_t)1 << (b - 0xc7);
                break;
        case 0xca:
                it->hdr = 5;
                break;
        case 0xcb:
                it->hdr = 9;
                break;
        case 0xcc:
        case 0xcd:
        case 0xce:
        case 0xcf: /* uint 8..64 */
                it->hdr = 1 + ((size_t)1 << (b - 0xcc));
                break;
        case 0xd0:
        case 0xd1:
        case 0xd2:
        case 0xd3: /* int 8..64 */
                it->hdr = 1 + ((size_t)1 << (b - 0xd0));
                break;
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8: /* fixext 1..16 + type */
                it->hdr = 2 + ((size_t)1 << (b - 0xd4));
                break;
        case 0xd9:
        case 0xda:
        case 0xdb: /* str 8/16/32 */
                lenbytes = (size_t)1 << (b - 0xd9);
                break;
        case 0xdc:
        case 0xdd:
                it->kind = ITEM_ARRAY;
                lenbytes = b == 0xdc ? 2 : 4;
                break;
        case 0xde:
        case 0xdf:
                it->kind = ITEM_MAP;
                lenbytes = b == 0xde ? 2 : 4;
                break;
        }
        if (lenbytes == 0)
                return it->hdr <= n ? 1 : 0;
        it->hdr = 1 + lenbytes + (b >= 0xc7 && b <= 0xc9 ? 1 : 0);
        if (n < it->hdr)
                return 0;
        it->len = lenbytes == 1 ? p[1] : lenbytes == 2 ? be16(p + 1) : be32(p + 1);
        return 1;
}

/* An object ended: count it against its container, closing full ones. */
static void
scan_finish_item(struct proto_reader *rd)
{
        while (rd->depth > 0) {
                rd->pending--;
                if (--rd->left[rd->depth - 1] > 0)
                        return;
                rd->depth--; /* the container is complete: an item of its parent */
        }
        rd->done = true;
}

/* The error for a message over max_message bytes. */
static int
scan_too_large(const struct proto_reader *rd, struct proto_error *err)
{
        proto_error_set(err, PROTO_E_TOO_LARGE, NULL, "message larger than %zu bytes",
                        rd->lim.max_message);
        return -1;
}

/*
 * Account for one header; -1 with err if it breaks a limit.
 * "rest" is the fewest objects (and bytes) the open containers still
 * need after the current item: each expected element is at least one
 * byte and one object, and each open container's count includes the
 * item that is open inside it. So the checks hold for any way the
 * message could go on, and fail as early as possible.
 */
static int
scan_item(struct proto_reader *rd, const struct item *it, struct proto_error *err)
{
        bool container = it->kind != ITEM_SCALAR;
        uint64_t rest = rd->pending - rd->depth;
        uint64_t hdr_end = rd->scan + it->hdr;
        uint64_t size = container ? 0 : it->len; /* payload bytes */
        uint64_t elems = !container ? 0 : it->kind == ITEM_MAP ? 2 * it->len : it->len;

        rd->objects++;
        if (container && rd->depth + 1 > rd->lim.max_depth) {
                proto_error_set(err, PROTO_E_INVALID_REQUEST, NULL, "nesting deeper than %u",
                                rd->lim.max_depth);
                return -1;
        }
        if (hdr_end + size + rest > rd->lim.max_message)
                return scan_too_large(rd, err);
        if (hdr_end + elems + rest > rd->lim.max_message) {
                proto_error_set(err, PROTO_E_INVALID_REQUEST, NULL,
                                "container of %llu elements cannot fit in %zu bytes",
                                (unsigned long long)it->len, rd->lim.max_message);
                return -1;
        }
        if (rd->objects + elems + rest > rd->lim.max_objects) {
                proto_error_set(err, PROTO_E_TOO_LARGE, NULL, "more than %zu objects in a message",
                                rd->lim.max_objects);
                return -1;
        }
        rd->scan = hdr_end + size;
        if (elems == 0) {
                scan_finish_item(rd);
        } else {
                rd->left[rd->depth++] = elems;
                rd->pending += elems;
        }
        return 0;
}

/* Nothing complete yet: only an error if the buffered part is too big. */
static int
scan_need_more(struct proto_reader *rd, struct proto_error *err)
{
        if (rd->end - rd->start > rd->lim.max_message)
                return scan_too_large(rd, err);
        return 0;
}

/* Scan on from where we stopped: 1 when a whole message is buffered. */
static int
scan_message(struct proto_reader *rd, struct proto_error *err)
{
        const unsigned char *msg = (const unsigned char *)rd->buf + rd->start;
        size_t avail = rd->end - rd->start;
        struct item it;
        int r;

        for (;;) {
                if (rd->done)
                        return rd->scan <= avail ? 1 : scan_need_more(rd, err);
                if (rd->scan >= avail)
                        return scan_need_more(rd, err);
                r = hdr_parse(msg + rd->scan, avail - (size_t)rd->scan, &it);
                if (r == 0)
                        return scan_need_more(rd, err);
                if (r < 0) {
                        proto_error_set(err, PROTO_E_INVALID_REQUEST, NULL,
                                        "invalid MessagePack byte 0xc1");
                        return -1;
                }
                if (scan_item(rd, &it, err) < 0)
                        return -1;
        }
}

/* Forget the scanned message: the next one starts after it. */
static void
scan_reset(struct proto_reader *rd)
{
        rd->start += (size_t)rd->scan;
        rd->scan = 0;
        rd->objects = 0;
        rd->pending = 0;
        rd->depth = 0;
        rd->done = false;
}

/*
 * Copy the method name. One too long or containing NUL leaves "": no
 * method has that name, so the daemon answers unknown_method for this
 * request instead of closing a connection that is otherwise fine.
 */
static void
envelope_method(struct proto_msg *msg, const msgpack_object *o)
{
        size_t len = o->via.str.size;

        if (len > PROTO_METHOD_MAX || (len > 0 && memchr(o->via.str.ptr, '\0', len) != NULL)) {
                msg->method[0] = '\0';
                return;
        }
        if (len > 0) /* an empty str may have a NULL pointer */
                memcpy(msg->method, o->via.str.ptr, len);
        msg->method[len] = '\0';
}

/*
 * Sets the msgid if a[1] is one; true if the msgid is acceptable. A
 * response may carry a nil msgid: the daemon's answer to a request whose
 * msgid it could not read (has_msgid stays false).
 */
static bool
envelope_msgid(struct proto_msg *msg, const msgpack_object *a, uint32_t n)
{
        if (n < 2)
                return false;
        if (a[1].type == MSGPACK_OBJECT_NIL)
                return msg->type == PROTO_RESPONSE;
        if (a[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[1].via.u64 > UINT32_MAX)
                return false;
        msg->msgid = (uint32_t)a[1].via.u64;
        msg->has_msgid = true;
        return true;
}

/* Check the shape of [type, ...] and fill msg's fields; -1 with err. */
static int
envelope_check(struct proto_msg *msg, struct proto_error *err)
{
        const msgpack_object *root = &msg->unpacked.data, *a;
        uint32_t n, want;

        if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size == 0) {
                proto_error_set(err, PROTO_E_INVALID_REQUEST, NULL, "message is not an array");
                return -1;
        }
        a = root->via.array.ptr;
        n = root->via.array.size;
        if (a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[0].via.u64 > PROTO_NOTIFICATION) {
                proto_error_set(err, PROTO_E_INVALID_REQUEST, NULL, "unknown message type");
                return -1;
        }
        msg->type = (enum proto_msg_type)a[0].via.u64;
        want = msg->type == PROTO_NOTIFICATION ? 3 : 4;
        if (msg->type != PROTO_NOTIFICATION && !envelope_msgid(msg, a, n)) {
                proto_error_set(err, PROTO_E_INVALID_REQUEST, "msgid",
                                "msgid must be an unsigned 32-bit integer");
                return -1;
        }
        if (n != want) {
                proto_error_set(err, PROTO_E_INVALID_REQUEST, NULL,
                                "message of type %d must have %u elements, not %u", msg->type, want,
                                n);
                return -1;
        }
        switch (msg->type) {
        case PROTO_REQUEST:
        case PROTO_NOTIFICATION:
                if (a[want - 2].type != MSGPACK_OBJECT_STR) {
                        proto_error_set(err, PROTO_E_INVALID_REQUEST, "method",
                                        "method must be a string");
                        return -1;
                }
                if (a[want - 1].type != MSGPACK_OBJECT_ARRAY) {
                        proto_error_set(err, PROTO_E_INVALID_REQUEST, "params",
                                        "params must be an array");
                        return -1;
                }
                envelope_method(msg, &a[want - 2]);
                msg->params = a[want - 1];
                break;
        case PROTO_RESPONSE:
                if (a[2].type != MSGPACK_OBJECT_NIL && a[2].type != MSGPACK_OBJECT_MAP) {
                        proto_error_set(err, PROTO_E_INVALID_REQUEST, "error",
                                        "error must be nil or a map");
                        return -1;
                }
                msg->error = a[2];
                msg->result = a[3];
                break;
        }
        return 0;
}

/* Remember the error: the stream cannot be resumed after it. */
static int
reader_fail(struct proto_reader *rd, const struct proto_error *err)
{
        rd->failed = true;
        rd->fail = *err;
        return -1;
}

/*
 * msg is an output: it is overwritten without being released, so call
 * proto_msg_clear() on it after each call that returned 1 (calls that
 * return 0 or -1 leave nothing to release, only type/msgid on -1).
 */
int
proto_reader_next(struct proto_reader *rd, struct proto_msg *msg, struct proto_error *err)
{
        struct proto_error dummy;
        const char *data;
        size_t len, off = 0;
        int r;

        if (err == NULL)
                err = &dummy;
        memset(msg, 0, sizeof *msg); /* also msgpack_unpacked_init() */
        if (rd->failed) {
                *err = rd->fail;
                return -1;
        }
        if (rd->end == rd->start) /* nothing buffered (buf may still be NULL) */
                return 0;
        if ((r = scan_message(rd, err)) <= 0)
                return r < 0 ? reader_fail(rd, err) : 0;

        data = rd->buf + rd->start;
        len = (size_t)rd->scan;
        scan_reset(rd); /* the bytes stay in place until proto_reader_space() */
        /* The zone is the reader's: the previous message's objects go now, as documented. */
        if (rd->zone == NULL && (rd->zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE)) == NULL) {
                proto_error_set(err, PROTO_E_INTERNAL, NULL, "out of memory decoding a message");
                return reader_fail(rd, err);
        }
        msgpack_zone_clear(rd->zone);
        if (msgpack_unpack(data, len, &off, rd->zone, &msg->unpacked.data) !=
                MSGPACK_UNPACK_SUCCESS ||
            off != len) {
                proto_msg_clear(msg);
                proto_error_set(err, PROTO_E_INVALID_REQUEST, NULL, "malformed MessagePack");
                return reader_fail(rd, err);
        }
        if (envelope_check(msg, err) < 0) {
                msgpack_unpacked_destroy(&msg->unpacked);
                memset(&msg->params, 0, sizeof msg->params);
                memset(&msg->error, 0, sizeof msg->error);
                memset(&msg->result, 0, sizeof msg->result);
                return reader_fail(rd, err);
        }
        return 1;
}

void
proto_msg_clear(struct proto_msg *msg)
{
        msgpack_unpacked_destroy(&msg->unpacked);
        memset(msg, 0, sizeof *msg);
}
