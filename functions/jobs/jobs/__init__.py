"""The jobs function: SQS worker (`jobs.worker.handler`) and scheduled entry (`jobs.scheduler.handler`)."""
