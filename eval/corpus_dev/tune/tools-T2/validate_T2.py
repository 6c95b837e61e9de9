import json, os, re, collections, html as H
BASE='/work/main/eval/corpus_dev/tune'
KEYS=['id','question','category','answerable','expected_sources','expected_sections','key_facts','near_miss','notes']
CATS={'amount','condition','deadline','contact','metadata','enumeration','table','paraphrase','enterprise','multi_part','factual','unanswerable'}
def doc_text(fn):
    stem=fn.rsplit('.',1)[0]; src=open(os.path.join(BASE,'src-T2',stem+'.txt'),encoding='utf-8').read()
    p=os.path.join(BASE,'docs',fn); assert os.path.exists(p),fn
    if fn.endswith(('.txt','.md')): own=open(p,encoding='utf-8').read()
    elif fn.endswith('.html'): own=H.unescape(re.sub(r'<[^>]+>','\n',open(p,encoding='utf-8').read()))
    elif fn.endswith('.pdf'):
        from pypdf import PdfReader; own=''.join(pg.extract_text() for pg in PdfReader(p).pages).replace('\n','')
        own=re.sub(r'- \d+ -','',own)
    elif fn.endswith('.docx'):
        from docx import Document; d=Document(p); own='\n'.join([x.text for x in d.paragraphs]+[c.text for t in d.tables for r in t.rows for c in r.cells])
    return src, own
errs=[]; ids=set(); cats=collections.Counter(); nm=0; off=0; rows=[]
for ln,line in enumerate(open(os.path.join(BASE,'questions-T2.jsonl'),encoding='utf-8'),1):
    o=json.loads(line); rows.append(o)
    if list(o.keys())!=KEYS: errs.append((ln,'keys'))
    if o['id'] in ids: errs.append((ln,'dup id'))
    ids.add(o['id'])
    if o['category'] not in CATS: errs.append((ln,'cat'))
    cats[o['category']]+=1
    if not o['answerable']:
        if o['expected_sources'] or o['key_facts'] or o['expected_sections'] or o['category']!='unanswerable': errs.append((ln,'unans has data'))
        if o['near_miss']: nm+=1
        else: off+=1
        continue
    if o['near_miss'] or o['category']=='unanswerable' or not o['key_facts'] or not o['expected_sources']: errs.append((ln,'ans fields'))
    for fn in o['expected_sources']:
        src,own=doc_text(fn)
        for fact in o['key_facts']:
            if fact[0] not in src: errs.append((ln,'fact not in src',fn,fact[0]))
            if fact[0] not in own and fact[0] not in own.replace('\n',''): errs.append((ln,'fact not in doc file (ok for wrapped pdf?)',fn,fact[0]))
        for s in o['expected_sections']:
            if s not in src: errs.append((ln,'section',s))
N=len(rows)
print('N',N,'near_miss',nm,'offtopic',off, 'nm%%=%.1f'%(100*nm/N))
for c,v in sorted(cats.items()): print(c,v,'%.1f%%'%(100*v/N))
pp=cats['paraphrase']+cats['enterprise']; print('paraphrase+enterprise',pp,'%.1f%%'%(100*pp/N))
print('per doc',collections.Counter(s for o in rows for s in o['expected_sources']))
print('ERRORS',len(errs)); [print(e) for e in errs]
