import os, re, html, shutil
BASE='/work/main/eval/corpus_dev/tune'
SRC=os.path.join(BASE,'src-T2'); DOCS=os.path.join(BASE,'docs')
def lines(name): return [l.rstrip('\n') for l in open(os.path.join(SRC,name+'.txt'),encoding='utf-8') if l.strip()]

# ---- txt: copied as is
for n in ['futian-credit-service-guide-2025','tianjin-bonded-zone-manufacturing-report','chaoyang-service-agency-reward','nanshan-park-incubator-notice-2012']:
    shutil.copy(os.path.join(SRC,n+'.txt'), os.path.join(DOCS,n+'.txt'))

# ---- md
def write_md(n, rules):
    out=[]
    for l in lines(n):
        pre=''
        for pat,mark in rules:
            if re.match(pat,l): pre=mark+' '; break
        out.append(pre+l)
    open(os.path.join(DOCS,n+'.md'),'w',encoding='utf-8').write('\n\n'.join(out)+'\n')
write_md('huangpu-hq-economy-rules-2019',[(r'^广州开发区政策研究室 广州市黄埔区发展和改革局 广州开发区投资促进局','#'),(r'^广州市黄埔区 广州开发区促进总部经济发展办法实施细则$','##'),(r'^第[一二三四五六七八九十]+章','###')])
write_md('huangpu-hydrogen-rules-2020',[(r'^广州市黄埔区发展和改革局 广州开发区发展和改革局关于印发','#'),(r'^广州市黄埔区 广州开发区促进氢能产业发展办法实施细则$','##'),(r'^第[一二三四五六七八九十]+章','###')])
write_md('tianjin-bonded-zone-measures-draft',[(r'^天津港保税区关于促进经济高质量发展的若干措施$','#'),(r'^[一二三四五六七八九十]+、','##')])

# ---- html one line
def write_html(n):
    L=lines(n); title=L[0]
    body=''.join('<p>%s</p>'%html.escape(l,quote=False) for l in L[1:])
    s=('<!DOCTYPE html><html><head><meta charset="utf-8"><title>%s</title></head><body><div class="main"><div class="article">'
       '<h1>%s</h1><div class="article-content">%s</div></div></div></body></html>')%(html.escape(title),html.escape(title),body)
    assert '\n' not in s
    open(os.path.join(DOCS,n+'.html'),'w',encoding='utf-8').write(s)
write_html('haidian-returnee-talent-2025')

# ---- pdf hard-wrapped
from reportlab.pdfbase import pdfmetrics; from reportlab.pdfbase.cidfonts import UnicodeCIDFont; from reportlab.pdfgen import canvas
pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
def write_pdf(n, width=36, per_page=30):
    wrapped=[]
    for l in lines(n):
        for i in range(0,len(l),width): wrapped.append(l[i:i+width])
    path=os.path.join(DOCS,n+'.pdf'); c=canvas.Canvas(path); 
    pages=[wrapped[i:i+per_page] for i in range(0,len(wrapped),per_page)]
    for pi,pg in enumerate(pages,1):
        c.setFont("STSong-Light",12); y=780
        for l in pg: c.drawString(60,y,l); y-=24
        c.setFont("STSong-Light",10); c.drawCentredString(297,40,'- %d -'%pi); c.showPage()
    c.save()
write_pdf('tianjin-devzone-reform-plan-2017')
write_pdf('nanshan-culture-fund-notice-2015')

# ---- docx
from docx import Document
def write_docx_futian():
    n='futian-modern-service-guide-2017'; L=lines(n)
    d=Document(); d.add_paragraph(L[0]+L[1], style='Title')
    rows=[]
    for l in L[2:]:
        if ' | ' in l: rows.append([c.strip() for c in l.split(' | ')]); continue
        if re.match(r'^[一二三四五六七八九十]+、',l): d.add_paragraph(l, style='Heading 1')
        else: d.add_paragraph(l, style='Normal')
    t=d.add_table(rows=len(rows), cols=5); t.style='Table Grid'
    for i,r in enumerate(rows):
        r=(r+['']*5)[:5]
        for j,v in enumerate(r): t.cell(i,j).text=v
    d.save(os.path.join(DOCS,n+'.docx'))
write_docx_futian()
print('ok')
