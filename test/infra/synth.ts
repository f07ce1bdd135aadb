import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IspNotifyStack } from '../../lib/ispnotify-stack.js';
import { projectRoot } from '../../lib/constructs/lambda-function.js';

export interface Synthesized {
  app: App;
  stack: IspNotifyStack;
  template: Template;
  /** cdk.out's validation-report.json: what `cdk synth` would print and fail on. */
  validationReport: { pluginReports: { pluginName: string; violations: { ruleName: string }[] }[] };
}

/**
 * Synthesizes the stack the way bin/app.ts does (same cdk.json context, cdk-nag registered), bundling every
 * function with the local esbuild. Nag findings are collected into the report instead of thrown, so the
 * test can show them rather than fail in a hook. `context` is added on top, like `cdk synth -c key=value`.
 */
export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const cdkJson = JSON.parse(readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const app = new App({ context: { ...cdkJson.context, ...context, '@aws-cdk/core:failSynthOnValidationErrors': false } });
  const stack = new IspNotifyStack(app, 'IspNotifyStack');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  const validationReport = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
  return { app, stack, template: Template.fromStack(stack), validationReport };
}
