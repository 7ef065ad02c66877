package parse

import (
	"errors"
	"io"
)

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func io_MultiReader(r ...io.Reader) io.Reader { return io.MultiReader(r...) }

func asReadError(err error, re **ReadError) bool { return errors.As(err, re) }
