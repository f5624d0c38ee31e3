package wire

// ClientMsg is any message from client to server: join, leave, resume, time
// or ping. The server reads every one into it; the client writes them with it.
type ClientMsg struct {
	Type       string       `json:"type"`
	ClientTime int64        `json:"client_time,omitempty"` // unix ms, with time
	Pow        *PowSolution `json:"pow,omitempty"`         // with join, when the sale asks for proof of work
	Invite     string       `json:"invite,omitempty"`      // with join, an invite code for a sale that admits only whom it invited
}

// PowChallenge is what a client must solve before its join counts
// (docs/pow.md): in the welcome, and in a pow_* error so that the client can
// try again at once.
type PowChallenge struct {
	Challenge  string `json:"challenge"`
	Difficulty int    `json:"difficulty"` // leading zero bits; the challenge carries it too
}

// PowSolution is a join's proof of work: the challenge as issued and the
// counter that solves it, in decimal.
type PowSolution struct {
	Challenge string `json:"challenge"`
	Solution  string `json:"solution"`
}
