package wire

// ClientMsg is any message from client to server: join, leave, resume, time,
// ping or checkout. The server reads every one into it; the client writes them with it.
type ClientMsg struct {
	Type       string       `json:"type"`
	ClientTime int64        `json:"client_time,omitempty"` // unix ms, with time
	Pow        *PowSolution `json:"pow,omitempty"`         // with join, when the sale asks for proof of work
	Invite     string       `json:"invite,omitempty"`      // with join, an invite code for a sale that admits only whom it invited
	// Token, Quantity and Product are a checkout's, as the HTTP checkout's
	// body has them: the admitted message's token, how many units (1 when
	// absent) and, in an event, the product's SKU.
	Token    string `json:"token,omitempty"`
	Quantity *int   `json:"quantity,omitempty"`
	Product  string `json:"product,omitempty"`
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
