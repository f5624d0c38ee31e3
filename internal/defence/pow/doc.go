// Package pow owns the proof of work a shopper does before joining a sale: a
// few seconds of hashing that cost a person nothing noticeable and a bot farm
// one CPU-second per fake shopper.
//
// The server issues a challenge bound to one sale and one shopper (Guard.Issue),
// the client solves it (Solve here, solvePow in @foyer/client, clients/js/src/pow.ts), and the
// server verifies the solution once (Guard.Verify). Challenges are stateless:
// everything the server needs is in the challenge, signed with HMAC-SHA256
// under a server secret. The only state is the set of spent challenges, kept in
// Redis until they would have expired anyway, so a solution works once.
//
// # Wire format
//
// A challenge is base64url(payload) + "." + base64url(mac), both without
// padding (79 characters). The payload is 26 bytes:
//
//	[0]      version, 1
//	[1]      difficulty: leading zero bits the hash must have, 0..MaxDifficulty
//	[2:10]   expiry, Unix milliseconds, big endian
//	[10:26]  nonce: 16 random bytes, which name the challenge for replay checks
//
// The mac is HMAC-SHA256(secret, "foyer/pow" || payload || len(saleID) ||
// saleID || len(shopperID) || shopperID), each length a 4-byte big-endian
// count of bytes. The sale and shopper are not in the payload (the server
// knows them when it verifies), which keeps the challenge short; a challenge
// presented for another sale or shopper fails the mac.
//
// # The hashing rule
//
// The same in Go (this package) and JavaScript (clients/js/src/pow.ts):
//
//	hash = SHA-256(UTF-8(challenge + ":" + counter))
//
// where challenge is the string exactly as issued and counter is a
// non-negative integer written in decimal without leading zeros ("0", "1",
// "2", ...). A counter solves the challenge when hash starts with at least
// difficulty zero bits, counted from the most significant bit of its first
// byte. The solution is that counter, as the same decimal string. Solvers try
// counters from 0 upwards, so Go and JavaScript find the same, smallest one;
// on average that takes 2^difficulty hashes.
//
// Difficulty 0 means off: Issue returns no challenge and the caller does not
// call Verify.
package pow
