package waitingroom

// plainID reports whether id is 1 to 128 of [A-Za-z0-9_-]. Every id that
// enters a queue is one: admit.lua writes shopper, transaction and
// reservation ids into JSON without escaping, and checking each of them in
// Lua cost more than the rest of the admission's Lua together.
func plainID(id string) bool {
	return id != "" && len(id) <= 128 && plainChars(id, true)
}

// plainChars reports whether every byte of id is one of [a-z0-9_-], or of
// [A-Z] too when upper is set: the characters of every id Foyer makes.
func plainChars(id string, upper bool) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || upper && 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
