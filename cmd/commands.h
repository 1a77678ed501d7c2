/* Subcommand entry points.  Each is defined in its own folder; they are
 * weak so the binary links while a subcommand is still being written, and
 * `jmsg` lists only those that exist. argv[0] is the subcommand's name. */
#ifndef JMSG_COMMANDS_H
#define JMSG_COMMANDS_H

int server_main(int argc, char **argv) __attribute__((weak));
int client_main(int argc, char **argv) __attribute__((weak));
int analyze_main(int argc, char **argv) __attribute__((weak));
int sockets_main(int argc, char **argv) __attribute__((weak));
int replay_main(int argc, char **argv) __attribute__((weak));

#endif
