// Package edge is the domain of the Comptoir terminal: the codes a counter reads,
// the operations it journals, the counter rules of a network, receipts, error
// codes, and the Desk that carries out the counter's use cases.
//
// It imports the standard library and uuid only. Badger, MQTT, printers, image
// decoding and HTTP live in adapters (edge/journal, sync/uplink, printer,
// scanner, ui) that depend on this package, never the other way round.
package edge
