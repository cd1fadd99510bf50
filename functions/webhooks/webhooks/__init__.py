"""Stripe webhooks: the verifying receiver (Function URL → SQS FIFO) and the FIFO processor."""
