<?xml version="1.0" encoding="UTF-8"?>
<!-- Sample: the normalized transmission acknowledgment as a fixed text report
     ([ach.ack] xslt = "etc/ack.xsl", name = "ack_{id}_{stem}.txt"). -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:a="urn:spoolgate:ach:transmission-ack:1">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:template match="/a:TransmissionAcknowledgment">
    <xsl:text>TRANSMISSION ACK </xsl:text>
    <xsl:value-of select="a:Transmission/@fileName"/>
    <xsl:text> </xsl:text>
    <xsl:value-of select="a:Status"/>
    <xsl:text>&#10;SHA256 </xsl:text>
    <xsl:value-of select="a:Transmission/@sha256"/>
    <xsl:text>&#10;</xsl:text>
    <xsl:for-each select="a:Batches/a:Batch">
      <xsl:text>BATCH </xsl:text>
      <xsl:value-of select="@number"/>
      <xsl:text> </xsl:text>
      <xsl:value-of select="@companyName"/>
      <xsl:text> ENTRIES </xsl:text>
      <xsl:value-of select="a:EntryCount"/>
      <xsl:text> RETURNS </xsl:text>
      <xsl:value-of select="a:Returns"/>
      <xsl:text> NOCS </xsl:text>
      <xsl:value-of select="a:Nocs"/>
      <xsl:text>&#10;</xsl:text>
    </xsl:for-each>
    <xsl:text>ERRORS </xsl:text>
    <xsl:value-of select="a:Errors/@count"/>
    <xsl:text>&#10;</xsl:text>
  </xsl:template>
</xsl:stylesheet>
