import { validateCommand } from './src/config/validate-cli.ts';
const env = { OPENAI_API_KEY: 'sk-test-openai-0001', ANTHROPIC_API_KEY: 'sk-ant-0002', GEMINI_API_KEY: 'gem-0003', GATEWAY_API_KEY: 'gw-0004' };
const code = validateCommand(process.argv[2] ?? '.', process.argv[3] === 'noenv' ? {} : env, process.stdout, { allowMissingEnv: process.argv[4] === 'allow' });
console.log('exit', code);
