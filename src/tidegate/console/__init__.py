"""The web console under `/console/`: server-rendered pages over the same service functions
and the same authorization as the ECR API and `/api/`."""
