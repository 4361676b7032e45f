// Command hello is the hello-world aws-lambda-go function make bench
// compares crmsync's bootstraps' cold starts with: it is built the same
// way (provided.al2023 bootstrap flags) and does nothing at init.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}
