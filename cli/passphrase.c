/*
 * passphrase.c: get the passphrase that unlocks an identity, from the first
 * line of a passphrase file (unattended runs) or from the terminal with echo
 * off.  The passphrase only ever lives in sodium_malloc'ed memory and is
 * wiped when freed; the terminal is restored even if a signal interrupts.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

/* Longer passphrases are refused rather than cut. */
#define PASS_MAX 1024
/* Ask again this many times when the two entries of a new one differ. */
#define CONFIRM_TRIES 3

enum { TTY_OK, TTY_NONE, TTY_LONG, TTY_EOF, TTY_ERROR, TTY_SIGNAL };

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

static const int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
#define NCAUGHT (sizeof(caught) / sizeof(caught[0]))

/*
 * read_tty(prompt, buf, len): show ${prompt} on the terminal and read one
 * line without echo into ${buf} (PASS_MAX + 1 bytes).  A TTY_* code.
 *
 * The signals that would leave the terminal without echo are blocked and
 * only let through while pselect() waits, so none can slip in between a
 * check and a blocking read; the terminal is restored before any of them
 * takes its usual effect.
 */
static int
read_tty(const char *prompt, char *buf, size_t *len)
{
	struct sigaction sa, old_sa[NCAUGHT];
	struct termios old, quiet;
	sigset_t block, orig;
	fd_set rfds;
	size_t i, n = 0;
	char ch = 0;
	int fd, rc = TTY_OK, too_long = 0;
	ssize_t r;

	*len = 0;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return TTY_NONE;
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return TTY_NONE;
	}

	sigemptyset(&block);
	for (i = 0; i < NCAUGHT; i++)
		sigaddset(&block, caught[i]);
	sigprocmask(SIG_BLOCK, &block, &orig);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	got_signal = 0;
	for (i = 0; i < NCAUGHT; i++)
		sigaction(caught[i], &sa, &old_sa[i]);

	quiet = old;
	quiet.c_lflag &= (tcflag_t)~ECHO;
	quiet.c_lflag |= ECHONL;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		rc = TTY_ERROR;
		goto restore;
	}
	for (;;) {
		FD_ZERO(&rfds);
		FD_SET(fd, &rfds);
		if (pselect(fd + 1, &rfds, NULL, NULL, NULL, &orig) < 0) {
			if (errno == EINTR && !got_signal)
				continue;
			rc = got_signal ? TTY_SIGNAL : TTY_ERROR;
			break;
		}
		if ((r = read(fd, &ch, 1)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			rc = TTY_ERROR;
			break;
		}
		if (r == 0) {
			if (n == 0)
				rc = TTY_EOF;
			break;
		}
		if (ch == '\n' || ch == '\r')
			break;
		if (n < PASS_MAX)
			buf[n++] = ch;
		else
			too_long = 1;
	}
	ch = 0;
	tcsetattr(fd, TCSAFLUSH, &old);
	if (rc == TTY_SIGNAL || rc == TTY_EOF)
		(void)!write(fd, "\n", 1);
restore:
	for (i = 0; i < NCAUGHT; i++)
		sigaction(caught[i], &old_sa[i], NULL);
	close(fd);
	/* A signal still pending now gets its usual effect. */
	sigprocmask(SIG_SETMASK, &orig, NULL);
	if (rc == TTY_SIGNAL)
		raise(got_signal);      /* with the old handler in place */
	if (rc == TTY_OK && too_long)
		rc = TTY_LONG;
	if (rc != TTY_OK) {
		sodium_memzero(buf, PASS_MAX + 1);
		return rc;
	}
	buf[n] = '\0';
	*len = n;
	return TTY_OK;
}

/*
 * read_file(path, buf, len): the first line of ${path}, without its "\n"
 * (or "\r\n").  0, or an exit code after an error.
 */
static int
read_file(const char *path, char *buf, size_t *len)
{
	struct stat sb;
	size_t n = 0;
	ssize_t r;
	char *nl;
	int fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) == -1) {
		cli_error("cannot open the passphrase file %s: %s", path,
		    strerror(errno));
		cli_hint("check the path given with --passphrase-file or "
		    "COFFRE_PASSPHRASE_FILE");
		return CLI_EXIT_ERROR;
	}
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & 077) != 0)
		cli_warn("other users can read the passphrase file %s; make "
		    "it private with `chmod 600 %s`", path, path);
	/* Read up to one byte more than allowed, stopping at a newline. */
	while (n < PASS_MAX + 1) {
		r = read(fd, buf + n, PASS_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cli_error("reading the passphrase file %s: %s", path,
			    strerror(errno));
			close(fd);
			sodium_memzero(buf, PASS_MAX + 1);
			return CLI_EXIT_ERROR;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n) != NULL)
			break;
	}
	close(fd);
	if ((nl = memchr(buf, '\n', n)) != NULL)
		n = (size_t)(nl - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > PASS_MAX) {
		sodium_memzero(buf, PASS_MAX + 1);
		cli_error("the passphrase in %s is longer than %d bytes", path,
		    PASS_MAX);
		return CLI_EXIT_ERROR;
	}
	sodium_memzero(buf + n, PASS_MAX + 1 - n);
	*len = n;
	return 0;
}

/* tty_error(rc): explain a failed terminal read; an exit code. */
static int
tty_error(int rc)
{
	switch (rc) {
	case TTY_NONE:
		cli_error("a passphrase is needed, but there is no terminal "
		    "to ask it on");
		cli_hint("for unattended runs, put the passphrase on the "
		    "first line of a private file (chmod 600) and name it "
		    "with --passphrase-file FILE or COFFRE_PASSPHRASE_FILE");
		break;
	case TTY_LONG:
		cli_error("the passphrase is longer than %d bytes", PASS_MAX);
		break;
	case TTY_EOF:
		cli_error("no passphrase was entered");
		break;
	case TTY_SIGNAL:
		cli_error("interrupted");
		break;
	default:
		cli_error("reading the passphrase from the terminal: %s",
		    strerror(errno));
		break;
	}
	return CLI_EXIT_ERROR;
}

/* ask_new(what, buf, len): a new passphrase, typed twice. */
static int
ask_new(const char *what, char *buf, size_t *len)
{
	char prompt[PATH_MAX + 64];
	char *again;
	size_t len2;
	int rc, tries, same;

	if ((again = sodium_malloc(PASS_MAX + 1)) == NULL) {
		cli_error("out of memory");
		return CLI_EXIT_ERROR;
	}
	for (tries = 1; ; tries++) {
		snprintf(prompt, sizeof(prompt), "New passphrase for %s: ",
		    what);
		if ((rc = read_tty(prompt, buf, len)) != TTY_OK)
			break;
		if (*len == 0) {
			fprintf(stderr, "coffre: the passphrase must not be "
			    "empty\n");
		} else {
			if ((rc = read_tty("Type it again: ", again, &len2))
			    != TTY_OK)
				break;
			same = len2 == *len && sodium_memcmp(buf, again,
			    *len) == 0;
			sodium_memzero(again, PASS_MAX + 1);
			if (same)
				break;
			fprintf(stderr, "coffre: the two passphrases "
			    "differ\n");
		}
		sodium_memzero(buf, PASS_MAX + 1);
		if (tries == CONFIRM_TRIES) {
			sodium_free(again);
			cli_error("no passphrase was set");
			cli_hint("run the command again and type the same "
			    "passphrase twice");
			return CLI_EXIT_ERROR;
		}
	}
	sodium_free(again);
	return rc == TTY_OK ? 0 : tty_error(rc);
}

int
cli_passphrase(const struct cli *c, const char *what, int create,
    char **pass, size_t *len)
{
	char prompt[PATH_MAX + 64];
	char *buf;
	int rc;

	*pass = NULL;
	*len = 0;
	if ((buf = sodium_malloc(PASS_MAX + 1)) == NULL) {
		cli_error("out of memory");
		return CLI_EXIT_ERROR;
	}
	if (c->passphrase_file != NULL) {
		rc = read_file(c->passphrase_file, buf, len);
		if (rc == 0 && *len == 0) {
			cli_error("the passphrase file %s is empty",
			    c->passphrase_file);
			cli_hint("put the passphrase on its first line");
			rc = CLI_EXIT_ERROR;
		}
	} else if (create) {
		rc = ask_new(what, buf, len);
	} else {
		snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", what);
		rc = read_tty(prompt, buf, len);
		if (rc == TTY_OK && *len == 0)
			rc = TTY_EOF;
		rc = rc == TTY_OK ? 0 : tty_error(rc);
	}
	if (rc != 0) {
		cli_passphrase_free(buf);
		*len = 0;
		return rc;
	}
	buf[*len] = '\0';
	*pass = buf;
	return 0;
}

void
cli_passphrase_free(char *pass)
{
	if (pass == NULL)
		return;
	sodium_memzero(pass, PASS_MAX + 1);
	sodium_free(pass);
}
