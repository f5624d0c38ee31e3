// Package waitingroom owns the whole life of a place and a reservation: who
// is waiting, in what order, who is let out, the stock held for them, and
// what becomes of each hold: confirmed (Rooms.Confirm), refunded
// (Rooms.Refund), expired, or the sale sold out. Its scripts (lua/, each run
// after lua/lib.lua) are the only writers of a sale's keys (Keys), and
// reservation.go and lib.lua the only spellings of a reservation's id.
//
// Its promises, each kept by a Lua script that runs atomically on the sale's
// one Redis slot (every key of a sale shares the hash tag {saleID}):
//   - a shopper holds at most one place per sale; joining again returns it;
//   - places are tickets from one Redis counter, so arrival order is decided
//     by Redis, not by any node's clock, and admission pops the lowest ticket;
//   - admission never holds more units than are available, and every unit is
//     either available, held by one reservation, or sold;
//   - a held reservation is confirmed at most once, and a confirmation enters
//     the sale's outbox in the same script (Outbox reads it back until it is
//     published and cleared);
//   - every change a shopper must hear about is appended to the sale's event
//     stream in the same script that makes it, so no node can miss it.
//
// Positions are computed by each node for its own shoppers from the events
// (see Positions): a push tick costs O(1) Redis calls per sale, whatever the
// number of shoppers waiting.
package waitingroom
