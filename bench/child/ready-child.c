/*
 * ready-child.c -- the supervised program of the restart benchmark
 * (scenario 4): it tells the bench that it runs by writing its pid (4
 * bytes, one atomic write) into the FIFO named by argv[1], writes one line
 * to stdout (which wakes a supervisor that only looks at its children's
 * output between timeouts, as supervisord does), then waits to be killed.
 *
 * A separate program linked with libc only, so that its exec costs the
 * same little under corrald, the raw reference loop and supervisord.
 */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
        int32_t pid = (int32_t)getpid();
        int fd;

        if (argc != 2)
                return 2;
        if ((fd = open(argv[1], O_WRONLY | O_CLOEXEC)) == -1)
                return 1;
        if (write(fd, &pid, sizeof pid) != (ssize_t)sizeof pid)
                return 1;
        close(fd);
        if (write(STDOUT_FILENO, "ready\n", 6) < 0) {
                /* stdout may be /dev/null or closed: nothing depends on it. */
        }
        for (;;)
                pause();
}
