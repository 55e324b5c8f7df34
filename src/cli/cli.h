/*
 * cli.h - the iommusim command's sub-commands.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

/* `iommusim demo [options]`: an engine demonstration (see demo.c). */
int cli_demo_main(int argc, char **argv);

#endif /* CLI_CLI_H */
