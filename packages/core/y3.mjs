import { Lexer, Parser, parse, parseDocument } from 'yaml'

const n = Number(process.argv[2])
const mode = process.argv[3]
const text = '['.repeat(n)
try {
  if (mode === 'lex') {
    let c = 0
    for (const t of new Lexer().lex(text)) c++
    console.log('tokens', c)
  } else if (mode === 'parse') {
    let c = 0
    for (const t of new Parser().parse(text)) c++
    console.log('csts', c)
  } else if (mode === 'doc') {
    const d = parseDocument(text)
    console.log('errors', d.errors.length, d.errors[0]?.message.slice(0, 60))
  } else parse(text)
} catch (e) {
  console.log(e.constructor.name, e.message.slice(0, 80))
}
console.log('survived')
