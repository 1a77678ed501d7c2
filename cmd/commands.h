/* Subcommand entry points, each defined in its own folder.  argv[0] is the
 * subcommand's name; the return value is the process's exit status. */
#ifndef JM_CMD_COMMANDS_H
#define JM_CMD_COMMANDS_H

int server_main(int argc, char **argv);
int client_main(int argc, char **argv);
int analyze_main(int argc, char **argv);
int sockets_main(int argc, char **argv);
int replay_main(int argc, char **argv);

#endif
