/* net_hello: limits both sides know (design.md §4.5). A daemon says Hello first
 * thing on every connection it makes, and the receiving daemon answers with
 * its own over the same connection, so the sender learns the receiver's
 * max_message_size and quotas and the receiver the sender's. What a peer said
 * is kept in the store (peers table): the outbox parks at queue time what
 * that peer would refuse, and the pump before a send. */
#include "net_int.h"
#include "envelope.h"

#include <string.h>

size_t net_hello_pack(const struct net *net, uint8_t *body, size_t cap)
{
	Overstap__Hello h = OVERSTAP__HELLO__INIT;
	const struct config *cfg = net->h->cfg;

	h.software = "overstapd " OVERSTAP_VERSION;
	h.max_protocol = ENVELOPE_VERSION;
	h.max_message_size = (uint64_t)cfg->max_message_size;
	h.max_messages_per_hour = cfg->quota_messages_per_hour;
	h.max_stored_bytes = (uint64_t)cfg->quota_stored_bytes;
	if (overstap__hello__get_packed_size(&h) > cap)
		return 0;
	return overstap__hello__pack(&h, body);
}

void net_hello_record(struct net *net, struct peer *p, const Overstap__Envelope *e)
{
	Overstap__Hello *h = overstap__hello__unpack(NULL, e->hello.len, e->hello.data);
	struct peer_info pi = { 0 };
	int changed;

	if (!h) {
		net_reject(net, p, p->cfg.id, "unreadable hello");
		return;
	}
	/* peer text: kept to what the CSV rules allow, visible in status */
	if (text_check(h->software, sizeof(pi.software) - 1, 0) == TEXT_OK)
		str_copy(pi.software, sizeof(pi.software), h->software);
	pi.max_protocol = h->max_protocol;
	pi.max_message_size = h->max_message_size > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)h->max_message_size;
	pi.max_messages_per_hour = h->max_messages_per_hour;
	pi.max_stored_bytes = h->max_stored_bytes > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)h->max_stored_bytes;
	pi.at = time_now_ms();
	overstap__hello__free_unpacked(h, NULL);
	changed = pi.max_message_size != p->said.max_message_size ||
		  pi.max_messages_per_hour != p->said.max_messages_per_hour ||
		  pi.max_stored_bytes != p->said.max_stored_bytes || strcmp(pi.software, p->said.software) != 0;
	p->said = pi;
	if (!changed)
		return;
	log_info("peer %s: hello from %s, accepts messages up to %lld bytes", p->cfg.id,
		 pi.software[0] ? pi.software : "?", (long long)pi.max_message_size);
	if (store_peer_info_put(net->h->store, p->cfg.id, &pi) < 0)
		log_err("peer %s: cannot keep what it said in its hello", p->cfg.id);
}
