/* completion: shell completion for overstap(1), from its verb table. */
#ifndef OVERSTAP_COMPLETION_H
#define OVERSTAP_COMPLETION_H

#include <stdio.h>

#include "cli.h"

/* Write the bash completion script for the n verbs of v to f: first words,
 * second words, and each verb's long options as its help text lists them;
 * a file name after an option whose value is FILE, DIR or PATH. 0 or -EIO. */
int completion_write_bash(FILE *f, const struct verb *v, size_t n);

#endif
