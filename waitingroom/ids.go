package waitingroom

// plainID reports whether id is 1 to 128 of [A-Za-z0-9_-]. Every id that
// enters a queue is one: admit.lua writes shopper, transaction and
// reservation ids into JSON without escaping, and checking each of them in
// Lua cost more than the rest of the admission's Lua together.
func plainID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
