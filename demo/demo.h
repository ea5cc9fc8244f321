/*
 * demo.h - the subcommands of handoff-demo, one file each.
 */
#ifndef HANDOFF_DEMO_H
#define HANDOFF_DEMO_H

/* handoff-demo connect ... (connect.c); argv[0] is "connect". */
int demo_connect(int argc, char **argv);

#endif /* HANDOFF_DEMO_H */
