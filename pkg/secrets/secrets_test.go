package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type fake map[string]*string

func (f fake) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	v, ok := f[*in.SecretId]
	if !ok {
		return nil, errors.New("ResourceNotFoundException")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: v}, nil
}

func TestRead(t *testing.T) {
	value := "s3cret"
	f := fake{"ok": &value, "binary": nil}
	if got, err := Read(context.Background(), f, "ok"); err != nil || got != value {
		t.Errorf("Read(ok) = %q, %v", got, err)
	}
	for _, id := range []string{"binary", "missing"} {
		_, err := Read(context.Background(), f, id)
		if err == nil || !strings.Contains(err.Error(), "read secret "+id) {
			t.Errorf("Read(%s) = %v, want an error naming the secret", id, err)
		}
	}
}
