/* control: the local control socket the overstap CLI talks to (SPEC §4): one
 * protobuf Request, one Reply, version-checked, every change recorded with the
 * caller's user name. */
#ifndef OVERSTAP_CONTROL_H
#define OVERSTAP_CONTROL_H

#include "daemon.h"

int control_open(struct daemon *d);
void control_handle(struct daemon *d);
void control_close(struct daemon *d);

#endif
