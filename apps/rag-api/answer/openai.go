package answer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/unsilo/unsilo/apps/rag-api/api"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// OpenAI talks to any OpenAI-compatible chat completions endpoint (vLLM,
// Ollama, LiteLLM, OpenAI itself) with streaming.
type OpenAI struct {
	BaseURL  string // e.g. http://localhost:11434/v1
	APIKey   string
	Model    string
	Client   *http.Client
	Fallback Heuristic // rewrites follow-ups when the model cannot
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Stream      bool          `json:"stream"`
	Temperature float64       `json:"temperature"`
}

type chatChunk struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Answer implements Generator.
func (o OpenAI) Answer(ctx context.Context, q Question, passages []*doc.Chunk, emit func(string) error) error {
	if len(passages) == 0 {
		return emit(DontKnow(q.Text))
	}
	return o.complete(ctx, SystemPrompt, chatMessages(q, passages), emit)
}

// Rewrite implements Rewriter.
func (o OpenAI) Rewrite(ctx context.Context, question string, history []api.Turn) (string, error) {
	return modelRewrite(ctx, o.complete, o.Fallback, question, history)
}

func (o OpenAI) complete(ctx context.Context, system string, msgs []message, emit func(string) error) error {
	cm := []chatMessage{{Role: "system", Content: system}}
	for _, m := range msgs {
		cm = append(cm, chatMessage{Role: m.Role, Content: m.Text})
	}
	body, err := json.Marshal(chatRequest{Model: o.Model, Messages: cm, Stream: true})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.BaseURL, "/")+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("openai-compatible: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	client := o.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("openai-compatible: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("openai-compatible: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// Some servers ignore stream:true and answer with one JSON object.
		var full struct {
			Choices []struct {
				Message chatMessage `json:"message"`
			} `json:"choices"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&full); err != nil {
			return fmt.Errorf("openai-compatible: decoding response: %w", err)
		}
		if len(full.Choices) == 0 {
			return fmt.Errorf("openai-compatible: response has no choices")
		}
		return emit(full.Choices[0].Message.Content)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			return nil
		}
		var c chatChunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return fmt.Errorf("openai-compatible: bad stream chunk %q: %w", truncate(data, 80), err)
		}
		if c.Error != nil {
			return fmt.Errorf("openai-compatible: %s", c.Error.Message)
		}
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			if err := emit(c.Choices[0].Delta.Content); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("openai-compatible: reading stream: %w", err)
	}
	return fmt.Errorf("openai-compatible: stream ended without [DONE]")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
