/* dossier: the warm-handover dossier (overstap.Handover) shown to staff, as
 * labelled text or as a JSON object with the proto's field names. */
#ifndef OVERSTAP_DOSSIER_H
#define OVERSTAP_DOSSIER_H

#include <stdio.h>

#include "out.h"
#include "control.pb-c.h"
#include "overstap.pb-c.h"

/* Unpack the serialized dossier of a HandoverDetail/InboxDetail. On success
 * *out is owned by the caller (dossier_free). -ENODATA when there are no
 * bytes (the dossier was erased or never stored), -EBADMSG when they do not
 * unpack. */
int dossier_unpack(const ProtobufCBinaryData *bytes, Overstap__Handover **out);
void dossier_free(Overstap__Handover **h);

/* Every field, one labelled line each, indented by `indent`. */
void dossier_print(FILE *f, const char *indent, const Overstap__Handover *h);

/* The dossier as a JSON object (JSON null for a NULL h), keyed by the proto's
 * field names. Enum values are their canonical strings, null when unspecified.
 * New reference; NULL on ENOMEM. */
json_t *dossier_json(const Overstap__Handover *h);

/* The dossier part of `handover show` and `inbox show`: with obj, its
 * "dossier" member (null when there is none); else a titled text section on
 * stdout, or a line saying no dossier is held. -EBADMSG when the bytes do not
 * unpack (nothing printed in text mode; the caller reports it), -ENOMEM when
 * the member could not be built, else 0. */
int dossier_show(json_t *obj, const ProtobufCBinaryData *bytes);

/* The statuses and outcomes of one record (handover show, inbox show): as a
 * "timeline" table on stdout, or as the "timeline" array member of obj.
 * 0, or -ENOMEM. */
int dossier_timeline(json_t *obj, Overstapctl__EventRow *const *rows, size_t n);

/* The withdrawals sent for one record and their erasure receipts
 * (handover show): a "withdrawals" section, or the "withdrawals" array member
 * of obj. 0, or -ENOMEM. */
int dossier_withdrawals(json_t *obj, Overstapctl__WithdrawalRow *const *rows, size_t n);

#endif
