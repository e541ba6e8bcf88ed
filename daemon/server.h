/*
 * server.h -- the listening Unix socket: path resolution, the lock that
 * keeps two daemons off one path, stale-socket replacement, accepting.
 */
#ifndef CORRAL_SERVER_H
#define CORRAL_SERVER_H

struct corrald;
struct server;

/*
 * The socket path when none is given: $CORRAL_SOCKET, else
 * /run/corral/corrald.sock for root, else $XDG_RUNTIME_DIR/corral/..., else
 * /tmp/corral-UID/corrald.sock. Returns an allocated string.
 */
char *server_default_path(void);

/*
 * Lock, bind and listen on path; NULL with *cause (allocated) on failure,
 * e.g. when another corrald is serving the path.
 */
struct server *server_new(struct corrald *, const char *path, char **cause);
/* Stop accepting (the socket file is removed; the lock is kept). NULL: no listener. */
void server_close(struct server *);
/* Close everything and remove the socket (the lock file stays, unlocked). */
void server_free(struct server *);

#endif
