// Package api is rag-api's wire contract: the JSON bodies of its HTTP API.
// It imports only the standard library so that clients (alert-bridge,
// tests, other teams' tools) can depend on the contract without linking
// rag-api's search, answerers or AWS SDKs.
package api

// SearchRequest is POST /v1/search's body.
type SearchRequest struct {
	Query   string            `json:"query"`
	TopK    int               `json:"top_k"`
	Filters map[string]string `json:"filters"`
}

// SearchResult is one hit in POST /v1/search's response.
type SearchResult struct {
	ID     string  `json:"id,omitempty"`
	Title  string  `json:"title"`
	Text   string  `json:"text"`
	Source string  `json:"source"`
	Page   int     `json:"page"`
	Score  float64 `json:"score"`
}

// SearchResponse is POST /v1/search's response.
type SearchResponse struct {
	Results []SearchResult `json:"results"`
}

// Turn is one earlier message of a conversation.
type Turn struct {
	Role string `json:"role"` // "user" or "assistant"
	Text string `json:"text"`
}

// Conversation limits: what a request may carry.
const (
	MaxQuestionRunes = 2000
	MaxHistoryTurns  = 20
	MaxTurnRunes     = 8000
	MaxHistoryRunes  = 40000
)

// AskRequest is POST /v1/ask's body. History holds the conversation so far,
// oldest first; a follow-up ("그럼 해외는?") is rewritten into a standalone
// query for retrieval using it.
type AskRequest struct {
	Question string            `json:"question"`
	History  []Turn            `json:"history,omitempty"`
	TopK     int               `json:"top_k"`
	Filters  map[string]string `json:"filters"`
	Stream   bool              `json:"stream"`
}

// Source is a numbered passage an answer may cite as [N]. ID names the
// passage for GET /v1/preview.
type Source struct {
	N       int     `json:"n"`
	ID      string  `json:"id,omitempty"`
	Title   string  `json:"title"`
	Heading string  `json:"heading,omitempty"`
	Source  string  `json:"source"`
	Page    int     `json:"page,omitempty"`
	Text    string  `json:"text"`
	Score   float64 `json:"score"`
}

// AskResponse is POST /v1/ask's JSON response. Query is the standalone
// query retrieval used (the question itself unless it was a follow-up).
type AskResponse struct {
	Answer  string   `json:"answer"`
	Query   string   `json:"query,omitempty"`
	Sources []Source `json:"sources"`
}

// Streamed /v1/ask (server-sent events): "query" ({"query"}) and "sources"
// ([]Source) first, then "delta" ({"text"}) pieces, then "done" or "error"
// ({"error"}).

// Feedback is POST /v1/feedback's body.
type Feedback struct {
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Rating   string   `json:"rating"` // "up" or "down"
	Comment  string   `json:"comment,omitempty"`
	Sources  []string `json:"sources,omitempty"` // source IDs the answer cited
}

// Feedback limits.
const (
	MaxAnswerRunes  = 20000
	MaxCommentRunes = 2000
	MaxFeedbackSrcs = 20
)

// Preview is GET /v1/preview?id=ID's response: the passage in its document,
// with the passages around it (on a PDF: the whole page).
type Preview struct {
	ID      string           `json:"id"`
	Title   string           `json:"title"`
	Source  string           `json:"source"`
	Page    int              `json:"page,omitempty"`
	Heading string           `json:"heading,omitempty"`
	Parts   []PreviewPassage `json:"parts"`
}

// PreviewPassage is one passage of a preview; Hit marks the cited one.
type PreviewPassage struct {
	Heading string `json:"heading,omitempty"`
	Page    int    `json:"page,omitempty"`
	Text    string `json:"text"`
	Hit     bool   `json:"hit,omitempty"`
}

// UIConfig is GET /v1/config's response: what the web UI needs to log in.
// OIDC is nil when the server runs without identity.
type UIConfig struct {
	OIDC *OIDCConfig `json:"oidc,omitempty"`
}

// OIDCConfig is an authorization-code + PKCE login against the issuer the
// server verifies tokens of.
type OIDCConfig struct {
	Issuer                string `json:"issuer"`
	ClientID              string `json:"client_id"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	EndSessionEndpoint    string `json:"end_session_endpoint,omitempty"`
	Scopes                string `json:"scopes"`
	// Token is which token the UI sends as bearer: "access_token" or "id_token".
	Token string `json:"token"`
}

// Error is the body of every 4xx/5xx.
type Error struct {
	Error string `json:"error"`
}
