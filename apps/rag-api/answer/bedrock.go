package answer

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/unsilo/unsilo/apps/rag-api/api"
	"github.com/unsilo/unsilo/apps/rag-api/doc"
)

// ConverseStreamAPI is the part of the Bedrock runtime client Bedrock uses.
type ConverseStreamAPI interface {
	ConverseStream(ctx context.Context, in *bedrockruntime.ConverseStreamInput, opts ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseStreamOutput, error)
}

// Bedrock answers with Bedrock ConverseStream. ModelID is a model id or an
// inference profile id/ARN. provider-aws has no guardrail kind at our pin, so
// the guardrail is configured here and sent on every call.
type Bedrock struct {
	Client           ConverseStreamAPI
	ModelID          string
	GuardrailID      string
	GuardrailVersion string
	MaxTokens        int32
	Fallback         Heuristic // rewrites follow-ups when the model cannot
}

// Answer implements Generator.
func (b Bedrock) Answer(ctx context.Context, q Question, passages []*doc.Chunk, emit func(string) error) error {
	if len(passages) == 0 {
		return emit(DontKnow(q.Text))
	}
	return b.complete(ctx, SystemPrompt, chatMessages(q, passages), emit)
}

// Rewrite implements Rewriter.
func (b Bedrock) Rewrite(ctx context.Context, question string, history []api.Turn) (string, error) {
	return modelRewrite(ctx, b.complete, b.Fallback, question, history)
}

func (b Bedrock) complete(ctx context.Context, system string, msgs []message, emit func(string) error) error {
	maxTokens := b.MaxTokens
	if maxTokens <= 0 {
		maxTokens = 1024
	}
	in := &bedrockruntime.ConverseStreamInput{
		ModelId:         aws.String(b.ModelID),
		System:          []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: system}},
		InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(maxTokens), Temperature: aws.Float32(0)},
	}
	for _, m := range msgs {
		role := types.ConversationRoleUser
		if m.Role == "assistant" {
			role = types.ConversationRoleAssistant
		}
		in.Messages = append(in.Messages, types.Message{Role: role, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: m.Text}}})
	}
	if b.GuardrailID != "" {
		in.GuardrailConfig = &types.GuardrailStreamConfiguration{
			GuardrailIdentifier: aws.String(b.GuardrailID),
			GuardrailVersion:    aws.String(b.GuardrailVersion),
		}
	}
	out, err := b.Client.ConverseStream(ctx, in)
	if err != nil {
		return fmt.Errorf("bedrock ConverseStream %s: %w", b.ModelID, err)
	}
	stream := out.GetStream()
	defer stream.Close()
	for ev := range stream.Events() {
		switch e := ev.(type) {
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			if t, ok := e.Value.Delta.(*types.ContentBlockDeltaMemberText); ok && t.Value != "" {
				if err := emit(t.Value); err != nil {
					return err
				}
			}
		case *types.ConverseStreamOutputMemberMessageStop:
			if e.Value.StopReason == types.StopReasonGuardrailIntervened {
				return emit("\n(guardrail intervened)")
			}
		}
	}
	if err := stream.Err(); err != nil {
		var ve *types.ValidationException
		if errors.As(err, &ve) {
			return fmt.Errorf("bedrock rejected the request: %s", aws.ToString(ve.Message))
		}
		return fmt.Errorf("bedrock stream: %w", err)
	}
	return nil
}
