// Package api is rag-api's wire contract: the JSON bodies of /v1/search and
// /v1/ask. It imports only the standard library so that clients (alert-bridge,
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

// AskRequest is POST /v1/ask's body.
type AskRequest struct {
	Question string            `json:"question"`
	TopK     int               `json:"top_k"`
	Filters  map[string]string `json:"filters"`
	Stream   bool              `json:"stream"`
}

// Source is a numbered passage an answer may cite as [N].
type Source struct {
	N       int     `json:"n"`
	Title   string  `json:"title"`
	Heading string  `json:"heading,omitempty"`
	Source  string  `json:"source"`
	Page    int     `json:"page,omitempty"`
	Text    string  `json:"text"`
	Score   float64 `json:"score"`
}

// AskResponse is POST /v1/ask's JSON response.
type AskResponse struct {
	Answer  string   `json:"answer"`
	Sources []Source `json:"sources"`
}
