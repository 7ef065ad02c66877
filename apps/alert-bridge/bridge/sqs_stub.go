package bridge

import (
	"context"
	"errors"

	"github.com/unsilo/unsilo/apps/alert-bridge/membudget"
	"github.com/unsilo/unsilo/apps/alert-bridge/metrics"
)

func openSQS(context.Context, Config, *membudget.Budget, func() *metrics.Metrics) (queue, error) {
	return nil, errors.New("the SQS outbox is not built in yet")
}
