/* pipespeed.c: lesson 09's measurements again, in C.
 *
 * Built by build.rs with the C compiler Rust links with, at the same
 * optimisation level as the Rust program, and run by `pipe-speed` in the
 * same session and placement, so the two can be compared as a ratio.
 *
 * Usage:
 *   pipespeed stream pipe|socketpair SIZE MS     bytes streamed for MS ms
 *   pipespeed pingpong pipes|socketpair SIZE MS  round trips for MS ms
 *   pipespeed ipcbench pipe SIZE COUNT           ipc-bench's pipe method
 *   pipespeed ipcbench fifo SIZE COUNT PATH      ipc-bench's FIFO method
 *
 * Prints one line, "COUNT NANOSECONDS": bytes (stream), round trips
 * (pingpong) or messages (ipcbench), and the time they took.
 *
 * stream and pingpong do what the Rust program does, step for step: the
 * reader's clock starts when its first read returns, it checks the clock
 * after every read, and a writer stops when its write fails with EPIPE
 * (or ECONNRESET: a socket closed with data unread).
 *
 * ipcbench reproduces github.com/goldsborough/ipc-bench (source/pipe/pipe.c,
 * source/fifo/server.c and client.c, source/common/signals.c and
 * benchmarks.c): the server fwrite()s SIZE bytes to a stdio stream,
 * fflush()es it, sends SIGUSR2 to its whole process group, and waits in
 * sigwait() for SIGUSR1; the client waits for SIGUSR2, fread()s SIZE bytes
 * and sends SIGUSR1 to the group. One "message" is that exchange. The rate
 * is COUNT divided by the time from just before the first wait for the
 * client's "go" to the end of the last message. Differences from the
 * original: the processes are forked, not exec'd; the FIFO is made and
 * removed by the Rust program in its private directory (ipc-bench uses
 * /tmp/ipc_bench_fifo, mode 0666); both signals are blocked before the
 * fork and the client is forked before the server (see block_both:
 * ipc-bench's start-up races on a busy machine);
 * every process has an alarm so that nothing outlives a stuck run; the
 * server reaps its children.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Longest a run may last before its processes are killed (SIGALRM). */
#define ALARM_SECONDS 60

static void die(const char *call) {
	perror(call);
	exit(1);
}

static void die_child(const char *call) {
	perror(call);
	_exit(1);
}

static long long now_ns(void) {
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		die("clock_gettime");
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A pair of connected descriptors: [0] is read, [1] written. */
static void make_channel(const char *kind, int fds[2]) {
	if (strcmp(kind, "socketpair") == 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == -1)
			die("socketpair");
	} else if (pipe2(fds, O_CLOEXEC) == -1) {
		die("pipe2");
	}
}

static int stream(const char *kind, size_t size, long long ms) {
	int fds[2];
	make_channel(kind, fds);
	/* As in Rust: a write to a closed reader fails with EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	char *buf = malloc(size);
	if (buf == NULL)
		die("malloc");
	memset(buf, 'x', size);
	pid_t writer = fork();
	if (writer == -1)
		die("fork");
	if (writer == 0) {
		close(fds[0]); /* the writer only writes */
		alarm(ALARM_SECONDS);
		for (;;) {
			if (write(fds[1], buf, size) == -1)
				_exit(errno == EPIPE || errno == ECONNRESET ? 0 : 1);
		}
	}
	close(fds[1]); /* the writer holds the only write end */
	if (read(fds[0], buf, size) <= 0) /* the first read starts the clock */
		die("read");
	long long start = now_ns(), elapsed = 0;
	unsigned long long bytes = 0;
	while (elapsed < ms * 1000000LL) {
		ssize_t n = read(fds[0], buf, size);
		if (n <= 0)
			die("read");
		bytes += (unsigned long long)n;
		elapsed = now_ns() - start;
	}
	close(fds[0]); /* the writer's next write fails with EPIPE */
	int status;
	if (waitpid(writer, &status, 0) == -1)
		die("waitpid");
	printf("%llu %lld\n", bytes, elapsed);
	return 0;
}

/* Reads exactly size bytes; returns 0 at end of file. */
static int read_full(int fd, char *buf, size_t size) {
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n == 0)
			return 0;
		if (n == -1)
			return -1;
		got += (size_t)n;
	}
	return 1;
}

static int pingpong(const char *kind, size_t size, long long ms) {
	int there[2], back[2]; /* parent -> child, child -> parent */
	if (strcmp(kind, "socketpair") == 0) {
		int s[2];
		make_channel(kind, s);
		there[1] = back[0] = s[0]; /* the parent's end */
		there[0] = back[1] = s[1]; /* the child's end */
	} else {
		make_channel(kind, there);
		make_channel(kind, back);
	}
	char *buf = malloc(size);
	if (buf == NULL)
		die("malloc");
	memset(buf, 'x', size);
	pid_t echo = fork();
	if (echo == -1)
		die("fork");
	if (echo == 0) {
		alarm(ALARM_SECONDS);
		if (there[1] != there[0]) {
			close(there[1]); /* the child reads there and writes back */
			close(back[0]);
		}
		for (;;) {
			int r = read_full(there[0], buf, size);
			if (r == 0)
				_exit(0);
			if (r == -1)
				die_child("read");
			if (write(back[1], buf, size) == -1)
				_exit(errno == EPIPE || errno == ECONNRESET ? 0 : 1);
		}
	}
	if (there[1] != there[0]) {
		close(there[0]); /* the parent writes there and reads back */
		close(back[1]);
	}
	/* One round trip first: the clock starts once the child is running. */
	if (write(there[1], buf, size) == -1 || read_full(back[0], buf, size) != 1)
		die("first round trip");
	long long start = now_ns(), elapsed = 0;
	unsigned long long trips = 0;
	while (elapsed < ms * 1000000LL) {
		if (write(there[1], buf, size) == -1)
			die("write");
		if (read_full(back[0], buf, size) != 1)
			die("read");
		trips++;
		elapsed = now_ns() - start;
	}
	/* The child's read returns 0: it exits. */
	close(there[1]);
	if (back[0] != there[1])
		close(back[0]);
	int status;
	if (waitpid(echo, &status, 0) == -1)
		die("waitpid");
	printf("%llu %lld\n", trips, elapsed);
	return 0;
}

/* ---- ipc-bench, source/common/signals.c and benchmarks.c ---- */

static void signal_handler(int signal_number) {
	(void)signal_number;
}

/* setup_signals(): an empty handler for the signal this process sends,
 * the one it waits for blocked, so that sigwait() can take it. */
static void setup_signals(struct sigaction *action, int wait_for) {
	int handled = wait_for == SIGUSR1 ? SIGUSR2 : SIGUSR1;
	action->sa_flags = SA_RESTART;
	sigemptyset(&action->sa_mask);
	action->sa_handler = signal_handler;
	if (sigaction(handled, action, NULL))
		die("sigaction");
	sigemptyset(&action->sa_mask);
	action->sa_handler = SIG_DFL;
	sigaddset(&action->sa_mask, wait_for);
	sigprocmask(SIG_BLOCK, &action->sa_mask, NULL);
	/* Not in ipc-bench: see block_both(). */
	sigset_t handled_set;
	sigemptyset(&handled_set);
	sigaddset(&handled_set, handled);
	sigprocmask(SIG_UNBLOCK, &handled_set, NULL);
	usleep(1000); /* as ipc-bench does */
}

/* Not in ipc-bench, whose start-up races: a signal sent before its
 * receiver has set itself up is lost (or kills the receiver), and the run
 * waits forever; on a busy machine that happens. Here both signals are
 * blocked before the fork, so that they wait as pending instead, and each
 * process unblocks the one it handles once its handler is in place. The
 * timed loop is unchanged. */
static void block_both(int how) {
	sigset_t both;
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	sigprocmask(how, &both, NULL);
}

static void wait_for_signal(struct sigaction *action) {
	int signal_number;
	sigwait(&action->sa_mask, &signal_number);
}

/* kill(0, ...): the signal goes to every process of the group. */
static void notify_server(void) {
	kill(0, SIGUSR1);
}

static void notify_client(void) {
	kill(0, SIGUSR2);
}

/* ipc-bench's timer: timespec_get(TIME_UTC), in nanoseconds. */
static long long bench_now(void) {
	struct timespec ts;
	timespec_get(&ts, TIME_UTC);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The caller has called setup_signals(action, SIGUSR1), where ipc-bench
 * does: for the pipe just before this, for the FIFO before opening it. */
static void server(FILE *stream, int size, int count,
                   struct sigaction *action) {
	void *buffer = malloc((size_t)size);
	if (buffer == NULL)
		die("malloc");
	memset(buffer, 'x', (size_t)size);
	long long total_start = bench_now(); /* setup_benchmarks() */
	wait_for_signal(action);             /* the client's "go" */
	for (int message = 0; message < count; ++message) {
		if (fwrite(buffer, (size_t)size, 1, stream) == 0)
			die("fwrite");
		fflush(stream);
		notify_client();
		wait_for_signal(action);
	}
	long long total = bench_now() - total_start; /* evaluate() */
	printf("%d %lld\n", count, total);
	fflush(stdout);
	fclose(stream);
	free(buffer);
}

/* The caller has called setup_signals(action, SIGUSR2). */
static void client(FILE *stream, int size, int count,
                   struct sigaction *action) {
	void *buffer = malloc((size_t)size);
	if (buffer == NULL)
		die_child("malloc");
	notify_server(); /* the server can go */
	for (; count > 0; --count) {
		wait_for_signal(action);
		if (fread(buffer, (size_t)size, 1, stream) == 0)
			die_child("fread");
		notify_server();
	}
	fclose(stream);
	free(buffer);
}

static int ipcbench(const char *kind, int size, int count, const char *path) {
	/* ipc-bench is run from `bash -i`, which gives it a process group of its
	 * own; kill(0, ...) must not reach whoever started us. */
	if (setpgid(0, 0) == -1)
		die("setpgid");
	alarm(ALARM_SECONDS);
	if (strcmp(kind, "pipe") == 0) {
		/* source/pipe/pipe.c: the parent is the server, the child the
		 * client; the group holds these two processes. */
		int fds[2];
		if (pipe(fds) < 0)
			die("pipe");
		block_both(SIG_BLOCK);
		pid_t pid = fork();
		if (pid == -1)
			die("fork");
		if (pid == 0) {
			alarm(ALARM_SECONDS);
			close(fds[1]);
			FILE *in = fdopen(fds[0], "r");
			if (in == NULL)
				die_child("fdopen");
			struct sigaction action;
			setup_signals(&action, SIGUSR2);
			client(in, size, count, &action);
			_exit(0);
		}
		close(fds[0]);
		FILE *out = fdopen(fds[1], "w");
		if (out == NULL)
			die("fdopen");
		struct sigaction action;
		setup_signals(&action, SIGUSR1);
		server(out, size, count, &action);
		waitpid(pid, NULL, 0);
		return 0;
	}
	/* source/fifo/fifo.c: a parent starts the server and the client and
	 * waits; the group holds these three processes, and the parent is
	 * interrupted by every signal too (an empty handler, SA_RESTART). */
	struct sigaction parent;
	parent.sa_flags = SA_RESTART;
	sigemptyset(&parent.sa_mask);
	parent.sa_handler = signal_handler;
	if (sigaction(SIGUSR1, &parent, NULL) || sigaction(SIGUSR2, &parent, NULL))
		die("sigaction");
	fflush(stdout);
	block_both(SIG_BLOCK);
	/* The client first: the server's first signal must find it there. */
	pid_t client_pid = fork();
	if (client_pid == -1)
		die("fork");
	if (client_pid == 0) {
		alarm(ALARM_SECONDS);
		struct sigaction action;
		setup_signals(&action, SIGUSR2);
		wait_for_signal(&action); /* the server made the FIFO */
		FILE *in = fopen(path, "r");
		if (in == NULL)
			die_child("fopen");
		client(in, size, count, &action);
		_exit(0);
	}
	pid_t server_pid = fork();
	if (server_pid == -1)
		die("fork");
	if (server_pid == 0) {
		alarm(ALARM_SECONDS);
		struct sigaction action;
		setup_signals(&action, SIGUSR1); /* before the client's "go" */
		notify_client(); /* "the FIFO exists": the client may open it */
		FILE *out = fopen(path, "w");
		if (out == NULL)
			die_child("fopen");
		server(out, size, count, &action);
		_exit(0);
	}
	block_both(SIG_UNBLOCK); /* the parent is interrupted by each one */
	int failed = 0, status;
	while (waitpid(server_pid, &status, 0) == -1 && errno == EINTR) {
	}
	failed |= !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	while (waitpid(client_pid, &status, 0) == -1 && errno == EINTR) {
	}
	failed |= !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return failed;
}

int main(int argc, char *argv[]) {
	if (argc >= 5 && strcmp(argv[1], "stream") == 0)
		return stream(argv[2], (size_t)atoll(argv[3]), atoll(argv[4]));
	if (argc >= 5 && strcmp(argv[1], "pingpong") == 0)
		return pingpong(argv[2], (size_t)atoll(argv[3]), atoll(argv[4]));
	if (argc >= 5 && strcmp(argv[1], "ipcbench") == 0)
		return ipcbench(argv[2], atoi(argv[3]), atoi(argv[4]),
		                argc >= 6 ? argv[5] : "");
	fprintf(stderr, "usage: pipespeed stream|pingpong|ipcbench KIND SIZE N\n");
	return 2;
}
