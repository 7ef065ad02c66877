//go:build tools

// Package tools pins the AWS Lambda Runtime Interface Emulator, which runs
// rag-api's Lambda mode for real in apps/rag-api's Lambda test.
package tools

import _ "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
