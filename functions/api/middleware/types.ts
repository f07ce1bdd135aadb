import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { MiddlewareObj } from '@middy/core';
import type { Operator } from '../../../shared/domain/records.js';
import type { Principal } from '../../../shared/services/auth.js';

/** The API Gateway event as our middlewares leave it for the route. */
export type ApiEvent = APIGatewayProxyEventV2 & {
  /** The parsed JSON body (undefined when there was none). */
  jsonBody?: unknown;
  /** The operator the bearer key belongs to (operator keys). */
  operator?: Operator;
  /** Who calls, with the key's role. */
  principal?: Principal;
};

export type ApiResult = APIGatewayProxyStructuredResultV2;
export type ApiMiddleware = MiddlewareObj<ApiEvent, ApiResult, Error, Context>;
